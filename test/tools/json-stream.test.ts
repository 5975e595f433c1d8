import { describe, expect, it } from 'vitest';
import { JsonArrayStream } from '../../src/tools/json-stream.js';
import { decodeEvent, EVENT_SIZE } from '../../src/signals/events/bpf.js';
import { readNdjson } from '../../src/tools/ndjson.js';
import { Readable } from 'node:stream';

/** A struct tuner_event as the kernel writes it. */
function event(
  type: number,
  fields: { pid: number; tid: number; comm: string; value: bigint; arg0: bigint; arg1: bigint; comm2?: string },
): number[] {
  const b = Buffer.alloc(EVENT_SIZE);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(1, 4);
  b.writeBigUInt64LE(5_000_000_000n, 8);
  b.writeUInt32LE(fields.pid, 16);
  b.writeUInt32LE(fields.tid, 20);
  b.write(fields.comm + '\0garbage', 24, 16);
  b.writeBigUInt64LE(fields.value, 40);
  b.writeBigUInt64LE(fields.arg0, 48);
  b.writeBigUInt64LE(fields.arg1, 56);
  b.write((fields.comm2 ?? '') + '\0', 64, 16);
  return [...b];
}

describe('JsonArrayStream (bpftool event_pipe output)', () => {
  const text =
    '[{"type":9,"cpu":1,"index":1,"timestamp":1,"data":[1,2,3]},{"lost":{"id":3,"count":17}},\n{"type":9,"cpu":0,"index":0,"timestamp":2,"data":[4]},{"weird":"a},{\\"b"}';

  it.each([1, 3, 10, 1000])('yields whole elements from chunks of %i characters', (n) => {
    const s = new JsonArrayStream();
    const out: unknown[] = [];
    for (let i = 0; i < text.length; i += n) out.push(...s.push(text.slice(i, i + n)));
    expect(out).toEqual([
      { type: 9, cpu: 1, index: 1, timestamp: 1, data: [1, 2, 3] },
      { lost: { id: 3, count: 17 } },
      { type: 9, cpu: 0, index: 0, timestamp: 2, data: [4] },
      { weird: 'a},{"b' },
    ]);
    expect(s.bad).toBe(0);
  });
});

describe('decodeEvent', () => {
  const wall = (ns: bigint): number => Number(ns / 1_000_000n);

  it('decodes a run-queue outlier with the task that ran before', () => {
    const e = decodeEvent(event(1, { pid: 10, tid: 11, comm: 'spin', value: 8_001_234n, arg0: 20n, arg1: 21n, comm2: 'hog' }), wall)!;
    expect(e).toMatchObject({
      type: 'runq_outlier',
      pid: 10,
      tid: 11,
      comm: 'spin',
      value_us: 8001.2,
      cpu: 1,
      ran_before: { pid: 20, tid: 21, comm: 'hog' },
    });
    expect(e.ts).toBe(new Date(5000).toISOString());
  });

  it('decodes futex and io outliers', () => {
    const f = decodeEvent(
      event(2, { pid: 1, tid: 2, comm: 'db', value: 1_000_000n, arg0: 0x7f00n, arg1: BigInt.asUintN(64, -110n) }),
      wall,
    )!;
    expect(f).toMatchObject({ type: 'futex_wait', uaddr: '0x7f00', ret: -110, value_us: 1000 });
    const i = decodeEvent(
      event(3, { pid: 1, tid: 0, comm: 'dd', value: 60_000_000n, arg0: BigInt((7 << 20) | 3), arg1: (1n << 32n) | 4096n }),
      wall,
    )!;
    expect(i).toMatchObject({ type: 'io_outlier', op: 'write', bytes: 4096, value_us: 60000 });
    expect(i.dev).toMatch(/^(loop3|7:3)$/);
  });

  it('refuses short or unknown records', () => {
    expect(decodeEvent([1, 2, 3], wall)).toBeUndefined();
    expect(decodeEvent(event(99, { pid: 1, tid: 1, comm: 'x', value: 0n, arg0: 0n, arg1: 0n }), wall)).toBeUndefined();
  });
});

describe('readNdjson', () => {
  it('counts bad lines and hands them over instead of dropping them', async () => {
    const bad: string[] = [];
    const values: unknown[] = [];
    const { stats, done } = readNdjson(
      Readable.from(['{"a":1}\n{oops\n\n', '{"b":18446744073709551615}\n']),
      (v) => values.push(v),
      (l) => bad.push(l),
    );
    await done;
    expect(values).toEqual([{ a: 1 }, { b: '18446744073709551615' }]);
    expect(bad).toEqual(['{oops']);
    expect(stats).toEqual({ lines: 3, bad: 1 });
  });
});
