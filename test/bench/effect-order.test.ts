/** The effect suite's run order: a drifting load over a repetition must not always favour the same conditions. */
import { describe, expect, it } from 'vitest';
import { runOrder } from '../../bench/effect/order.js';

const kinds = (xs: Array<{ kind: string }>): string[] => xs.map((x) => x.kind);
const conds = ['alone', 'none', 'heuristic', 'learned', 'warm', 'static-a', 'static-b'].map((kind) => ({ kind }));

describe('effect run order', () => {
  it('runs the conditions as listed in even repetitions', () => {
    expect(kinds(runOrder(conds, 0))).toEqual(['alone', 'none', 'heuristic', 'learned', 'warm', 'static-a', 'static-b']);
    expect(kinds(runOrder(conds, 2))).toEqual(kinds(conds));
  });

  it('reverses them in odd repetitions, the warm run right after the cold learned run it starts from', () => {
    expect(kinds(runOrder(conds, 1))).toEqual(['static-b', 'static-a', 'learned', 'warm', 'heuristic', 'none', 'alone']);
  });

  it('a subset without a learned run keeps every condition once', () => {
    const some = conds.filter((c) => c.kind !== 'learned');
    const odd = kinds(runOrder(some, 3));
    expect([...odd].sort()).toEqual(kinds(some).sort());
    expect(odd[0]).toBe('static-b');
  });
});
