/**
 * Load recipe files: YAML (with line numbers) -> one zod schema -> semantic
 * rules -> a normalized Recipe. Every problem of every file is collected and
 * reported together (RecipeError, exit 2); nothing runs when any is bad.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { z } from 'zod';
import { problemsOf } from './issues.js';
import { isRoot, unsafeWritable } from './permissions.js';
import { lineAt } from './positions.js';
import { describe, error, RecipeError, type PathSeg, type Problem } from './problems.js';
import { normalize, type Recipe } from './recipe.js';
import { recipeSchema, type RecipeInput } from './schema.js';
import { checkRules } from './rules.js';

export interface LoadOptions {
  /** Refuse files writable by group/others (default: when running as root). */
  asRoot?: boolean;
}

export interface Loaded {
  file: string;
  recipe?: Recipe;
  /** Errors and warnings, in line order. */
  problems: Problem[];
}

/** The keys an object schema allows at a path of the data (for unknown-key messages). */
export function keysAt(schema: z.ZodType, path: readonly PathSeg[], data: unknown): string[] {
  let s: any = schema;
  let d: any = data;
  const unwrap = (): void => {
    for (let i = 0; i < 10; i++) {
      const def = s?._zod?.def;
      if (def?.type === 'optional' || def?.type === 'default' || def?.type === 'nullable') s = def.innerType;
      else if (def?.type === 'lazy') s = def.getter();
      else if (def?.type === 'union' && def.discriminator && d && typeof d === 'object') {
        s = def.options.find((o: any) => o._zod.def.shape?.[def.discriminator]?._zod.def.values?.includes(d[def.discriminator])) ?? s;
        return;
      } else if (def?.type === 'union') {
        s =
          def.options.find(
            (o: any) => o._zod.def.type === 'object' && d && typeof d === 'object' && Object.keys(d).some((k) => k in o._zod.def.shape),
          ) ?? s;
        return;
      } else return;
    }
  };
  unwrap();
  for (const seg of path) {
    const def = s?._zod?.def;
    if (def?.type === 'object') s = def.shape[seg as string];
    else if (def?.type === 'array') s = def.element;
    else if (def?.type === 'record') s = def.valueType;
    else return [];
    d = d?.[seg as string];
    unwrap();
  }
  const def = s?._zod?.def;
  return def?.type === 'object' ? Object.keys(def.shape) : [];
}

function yamlProblems(text: string, docs: Document[], lc: LineCounter): Problem[] {
  const out: Problem[] = [];
  const lines = text.split('\n');
  for (const doc of docs) {
    for (const e of doc.errors) {
      const line = e.linePos?.[0]?.line ?? (e.pos ? lc.linePos(e.pos[0]).line : undefined);
      const key = line === undefined ? undefined : /^\s*(?:-\s+)?([^:#\s][^:#]*?)\s*:/.exec(lines[line - 1] ?? '')?.[1];
      const p =
        e.code === 'DUPLICATE_KEY'
          ? error([], 'each key at most once in a mapping', key ? `the key ${JSON.stringify(key)} a second time` : 'a key given twice')
          : error([], 'valid YAML', e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''));
      out.push({ ...p, line });
    }
  }
  return out;
}

/** Check one recipe's text. */
export function parseRecipe(text: string, file: string, opts: LoadOptions = {}): Loaded {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false }) as Document[] | { empty: true };
  const list = Array.isArray(docs) ? docs : [];
  const top = 'a mapping with name, description, detectors and actions';
  if (list.length === 0) return { file, problems: [{ ...error([], top, 'an empty file'), line: 1 }] };
  if (list.length > 1) {
    const second = list[1]!.range?.[0];
    return {
      file,
      problems: [
        { ...error([], 'one YAML document', `${list.length} documents`), line: second === undefined ? undefined : lc.linePos(second).line },
      ],
    };
  }
  const doc = list[0]!;
  const syntax = yamlProblems(text, list, lc);
  if (syntax.length > 0) return { file, problems: syntax };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { file, problems: [{ ...error([], 'valid YAML', err instanceof Error ? err.message : String(err)), line: 1 }] };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    return { file, problems: [{ ...error([], top, describe(data)), line: 1 }] };
  const parsed = recipeSchema.safeParse(data);
  let problems: Problem[];
  if (!parsed.success) problems = parsed.error.issues.flatMap((i) => problemsOf(i, data, (p) => keysAt(recipeSchema, p, data)));
  else problems = checkRules(parsed.data, { asRoot: opts.asRoot ?? isRoot() });
  for (const p of problems) p.line ??= lineAt(doc, lc, p.path, p.atKey);
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const ok = parsed.success && !problems.some((p) => p.severity === 'error');
  return { file, problems, ...(ok ? { recipe: normalize(file, parsed.data as RecipeInput) } : {}) };
}

/** Check one recipe file (and, as root, who may write it). */
export function loadRecipeFile(file: string, opts: LoadOptions = {}): Loaded {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      file,
      problems: [
        error([], 'a readable recipe file', code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : String(code ?? err)),
      ],
    };
  }
  if (opts.asRoot ?? isRoot()) {
    const why = unsafeWritable(file);
    if (why) {
      return {
        file,
        problems: [
          error(
            [],
            'a file only root can modify (tuner runs as root, and whoever can edit a recipe can make it change kernel knobs)',
            `a file ${why}; fix it with chmod go-w`,
          ),
        ],
      };
    }
  }
  return parseRecipe(text, file, opts);
}

/** Load every file; throw one RecipeError listing every error of every file. */
export function loadRecipes(
  files: readonly string[],
  opts: LoadOptions = {},
): { recipes: Recipe[]; warnings: Array<{ file: string; problem: Problem }> } {
  if (files.length === 0) throw new RecipeError([{ file: '(none)', problem: error([], 'at least one recipe file', 'none') }]);
  const loaded = files.map((f) => loadRecipeFile(f, opts));
  const errors = loaded.flatMap((l) => l.problems.filter((p) => p.severity === 'error').map((problem) => ({ file: l.file, problem })));
  if (errors.length > 0) throw new RecipeError(errors);
  const names = new Map<string, string>();
  for (const l of loaded) {
    const prev = names.get(l.recipe!.name);
    if (prev !== undefined) {
      const line =
        readFileSync(l.file, 'utf8')
          .split('\n')
          .findIndex((x) => /^name\s*:/.test(x)) + 1;
      const problem = error(
        ['name'],
        'a name no other recipe of this run has',
        `${JSON.stringify(l.recipe!.name)}, the name of ${prev} too`,
      );
      throw new RecipeError([{ file: l.file, problem: { ...problem, ...(line > 0 ? { line } : {}) } }]);
    }
    names.set(l.recipe!.name, l.file);
  }
  return {
    recipes: loaded.map((l) => l.recipe!),
    warnings: loaded.flatMap((l) => l.problems.filter((p) => p.severity === 'warning').map((problem) => ({ file: l.file, problem }))),
  };
}
