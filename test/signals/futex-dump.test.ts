/** Decoding the futex dump iterator's records, and deltas from entries written only when they change. */
import { describe, expect, it } from 'vitest';
import { ChangedEntries, decodeFutexDump, FUTEX_IDLE_CYCLES, FUTEX_LAYOUT } from '../../src/signals/futex/dump.js';

function rec(kind: number, size: number, tgid: number, uaddr: bigint, body: Buffer): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(kind, 0);
  h.writeUInt32LE(size, 4);
  h.writeUInt32LE(tgid, 8);
  h.writeBigUInt64LE(uaddr, 16);
  return Buffer.concat([h, body]);
}

function proc(created: bigint, waits: bigint, wakes: bigint, comm: string, slot: number): Buffer {
  const b = Buffer.alloc(FUTEX_LAYOUT.futex_proc.size);
  const m = FUTEX_LAYOUT.futex_proc.members;
  b.writeBigUInt64LE(created, m.created);
  b.writeBigUInt64LE(waits, m.waits);
  b.writeBigUInt64LE(wakes, m.wakes);
  b.writeBigUInt64LE(7n, m.max_wait_ns + 8);
  b.writeBigUInt64LE(3n, m.max_cycle + 8);
  b.write(comm, m.comm);
  b.writeUInt32LE(Number(waits), m.hist + 4 * slot);
  return b;
}

function end(cycle: bigint, more: bigint): Buffer {
  const b = Buffer.alloc(32);
  b.writeBigUInt64LE(cycle, 0);
  b.writeBigUInt64LE(more, 8);
  b.writeBigUInt64LE(5n, 16);
  b.writeBigUInt64LE(9n, 24);
  return b;
}

describe('decodeFutexDump', () => {
  it('decodes processes, words and the end record', () => {
    const word = Buffer.alloc(FUTEX_LAYOUT.futex_addr.size);
    word.writeBigUInt64LE(2n, FUTEX_LAYOUT.futex_addr.members.waits);
    const buf = Buffer.concat([
      rec(1, FUTEX_LAYOUT.futex_proc.size, 42, 0n, proc(1n, 4n, 2n, 'db', 12)),
      rec(2, FUTEX_LAYOUT.futex_addr.size, 42, 0x7f00n, word),
      rec(3, 32, 0, 0n, end(3n, 1n)),
    ]);
    const d = decodeFutexDump(buf);
    expect(d.procs).toHaveLength(1);
    expect(d.procs[0]).toMatchObject({ tgid: 42, created: 1n, waits: 4n, wakes: 2n, comm: 'db', maxWaitNs: [0n, 7n], maxCycle: [0n, 3n] });
    expect(d.procs[0]!.hist[12]).toBe(4);
    expect(d.addrs[0]).toMatchObject({ tgid: 42, uaddr: 0x7f00n, waits: 2n });
    expect(d).toMatchObject({ cycle: 3n, more: true, entries: { procs: 5, addrs: 9 } });
  });

  it.each([
    ['a record of another size', rec(1, 100, 1, 0n, Buffer.alloc(100)), /has 100 bytes, this build reads 280/],
    ['an unknown kind', rec(9, 8, 1, 0n, Buffer.alloc(8)), /unknown record kind 9/],
    ['a record cut short', rec(3, 32, 0, 0n, end(1n, 0n)).subarray(0, 40), /runs past the end/],
    ['stray bytes', Buffer.alloc(5), /5 stray bytes/],
  ])('refuses %s', (_, buf, error) => {
    expect(() => decodeFutexDump(buf)).toThrow(error);
  });

  it('an object that is not armed writes nothing: no cycle', () => {
    const d = decodeFutexDump(Buffer.alloc(0));
    expect(d.cycle).toBeUndefined();
    expect(d).toMatchObject({ procs: [], addrs: [], more: false });
  });
});

describe('ChangedEntries', () => {
  it('pairs an entry with its previous reading, counts a re-created one from zero, forgets idle ones', () => {
    const c = new ChangedEntries<{ created: bigint; n: number }>();
    expect(c.step('a', { created: 1n, n: 5 }, 1n)).toBeUndefined();
    expect(c.step('a', { created: 1n, n: 9 }, 4n)).toEqual({ created: 1n, n: 5 });
    // Removed by the kernel side and created again: nothing to subtract.
    expect(c.step('a', { created: 40n, n: 1 }, 40n)).toBeUndefined();
    c.step('b', { created: 2n, n: 1 }, 2n);
    c.prune(2n + BigInt(FUTEX_IDLE_CYCLES) + 2n);
    expect(c.size).toBe(2);
    c.prune(2n + BigInt(FUTEX_IDLE_CYCLES) + 3n);
    expect(c.size).toBe(1);
  });
});
