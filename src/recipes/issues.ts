/**
 * zod issues -> problems that say what was expected and what was found, in
 * words. Schema fields carry their own "expected" text (fields.ts); zod's
 * generic messages are replaced. Unknown keys list the keys allowed there
 * and suggest the closest.
 */
import type { z } from 'zod';
import { closest, describe, error, type PathSeg, type Problem } from './problems.js';

type Issue = z.core.$ZodIssue;

const GENERIC = /^(Invalid|Too (small|big)|Unrecognized|Expected)/;

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function valueAt(data: unknown, path: readonly PathSeg[]): unknown {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg as string];
  }
  return v;
}

function expectedOf(issue: Issue): string {
  if (!GENERIC.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return TYPE_WORDS[issue.expected] ?? issue.expected;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'array' ? `a list of at least ${issue.minimum}` : `a value of at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' ? `a list of at most ${issue.maximum}` : `a value of at most ${issue.maximum}`;
    default:
      return issue.message;
  }
}

/**
 * One issue -> problems. `allowedKeys(path)` lists the keys of the object at
 * a path (for unknown keys).
 */
export function problemsOf(issue: Issue, data: unknown, allowedKeys: (path: PathSeg[]) => string[]): Problem[] {
  const path = issue.path.filter((s): s is PathSeg => typeof s === 'string' || typeof s === 'number');
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(path);
    return issue.keys.map((k) => {
      const guess = closest(k, allowed);
      const expected =
        allowed.length > 0 ? `one of the keys ${allowed.join(', ')}${guess ? ` (did you mean "${guess}"?)` : ''}` : 'no other keys';
      return error([...path, k], expected, `the unknown key ${JSON.stringify(k)}`, true);
    });
  }
  if (issue.code === 'invalid_union' && issue.discriminator !== undefined) {
    const at = path[path.length - 1] === issue.discriminator ? path : [...path, issue.discriminator];
    return [error(at, expectedOf(issue).replace(/^an action: /, ''), describe(valueAt(data, at)))];
  }
  const found = valueAt(data, path);
  return [error(path, expectedOf(issue), describe(found))];
}
