import { describe, expect, it } from 'vitest';
import { IdlePruner, u32KeyHex } from '../../src/signals/idle-prune.js';

describe('idle pruner', () => {
  it('deletes an entry unchanged for idleReads reads, not one that changed meanwhile', () => {
    const p = new IdlePruner(3, 10);
    expect(
      p.step([
        ['1', true],
        ['2', true],
      ]),
    ).toEqual([]);
    expect(
      p.step([
        ['1', false],
        ['2', true],
      ]),
    ).toEqual([]);
    expect(
      p.step([
        ['1', false],
        ['2', false],
      ]),
    ).toEqual([]);
    expect(
      p.step([
        ['1', false],
        ['2', false],
      ]),
    ).toEqual(['1']); // unchanged in reads 2, 3, 4
    expect(p.step([['2', false]])).toEqual(['2']); // unchanged in reads 3, 4, 5
    expect(p.size).toBe(0);
  });

  it('forgets keys a read no longer holds, and counts a first sighting as a change', () => {
    const p = new IdlePruner(2, 10);
    p.step([['7', false]]);
    p.step([]);
    expect(p.size).toBe(0);
    p.step([['7', false]]);
    expect(p.step([['7', false]])).toEqual([]);
    expect(p.step([['7', false]])).toEqual(['7']);
  });

  it('deletes at most maxPerRead a read; the rest follow', () => {
    const p = new IdlePruner(1, 2);
    const keys = ['1', '2', '3', '4', '5'];
    p.step(keys.map((k) => [k, true] as const));
    const first = p.step(keys.map((k) => [k, false] as const));
    expect(first).toHaveLength(2);
    const rest = keys.filter((k) => !first.includes(k));
    expect(p.step(rest.map((k) => [k, false] as const))).toHaveLength(2);
  });

  it('writes u32 keys little-endian for bpftool', () => {
    expect(u32KeyHex(0x01020304)).toEqual(['04', '03', '02', '01']);
    expect(u32KeyHex(4294967295)).toEqual(['ff', 'ff', 'ff', 'ff']);
  });
});
