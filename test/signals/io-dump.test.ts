/** Decoding io_dump's iterator records (bpf/io.h), byte by byte as the C layout puts them. */
import { describe, expect, it } from 'vitest';
import { decodeIoDump, IO_LAYOUT } from '../../src/signals/io/dump.js';
import { mapReads } from '../../src/signals/map-reads.js';

function rec(kind: number, key: number, body: Buffer, size = body.length): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(kind, 0);
  h.writeUInt32LE(size, 4);
  h.writeUInt32LE(key, 8);
  return Buffer.concat([h, body]);
}

function dev(created: bigint, reads: bigint, slot: number): Buffer {
  const m = IO_LAYOUT.io_dev.members;
  const b = Buffer.alloc(IO_LAYOUT.io_dev.size);
  b.writeBigUInt64LE(created, m.created);
  b.writeBigUInt64LE(reads, m.reads);
  b.writeBigUInt64LE(3n, m.writes);
  b.writeBigUInt64LE(1n, m.others);
  b.writeBigUInt64LE(reads * 4096n, m.read_bytes);
  b.writeBigUInt64LE(12288n, m.write_bytes);
  b.writeBigUInt64LE(2n, m.read_seq);
  b.writeBigUInt64LE(900n, m.max_lat_ns + 8);
  b.writeBigUInt64LE(7n, m.max_cycle + 8);
  b.writeUInt32LE(Number(reads) + 4, m.lat + 4 * slot);
  b.writeUInt32LE(Number(reads), m.read_lat + 4 * slot);
  b.writeUInt32LE(5, m.queue + 4 * 39);
  return b;
}

function proc(created: bigint, ios: bigint, comm: string): Buffer {
  const m = IO_LAYOUT.io_proc.members;
  const b = Buffer.alloc(IO_LAYOUT.io_proc.size);
  b.writeBigUInt64LE(created, m.created);
  b.writeBigUInt64LE(ios, m.ios);
  b.writeBigUInt64LE(ios * 512n, m.bytes);
  b.writeBigUInt64LE(123456789n, m.wait_ns);
  b.writeBigUInt64LE(0xfedcba9876543210n, m.cgroup_id);
  b.write(comm, m.comm);
  return b;
}

function end(cycle: bigint, more: bigint, devs: bigint, procs: bigint): Buffer {
  const b = Buffer.alloc(32);
  b.writeBigUInt64LE(cycle, 0);
  b.writeBigUInt64LE(more, 8);
  b.writeBigUInt64LE(devs, 16);
  b.writeBigUInt64LE(procs, 24);
  return b;
}

describe('decodeIoDump', () => {
  it('decodes disks, processes and the end record', () => {
    const d = decodeIoDump(
      Buffer.concat([rec(1, (7 << 20) | 3, dev(2n, 10n, 17)), rec(2, 4242, proc(5n, 9n, 'dd')), rec(3, 0, end(8n, 1n, 1n, 12n))]),
    );
    expect(d.devs).toHaveLength(1);
    const v = d.devs[0]!;
    expect(v).toMatchObject({ key: String((7 << 20) | 3), created: 2n });
    expect(v.value).toMatchObject({ reads: 10n, writes: 3n, others: 1n, readBytes: 40960n, writeBytes: 12288n, readSeq: 2n });
    expect(v.value.max).toEqual({ value: [0n, 900n], cycle: [0n, 7n] });
    expect(v.value.lat[17]).toBe(14);
    expect(v.value.readLat[17]).toBe(10);
    expect(v.value.queue[39]).toBe(5);
    expect(v.value.lat.reduce((a, b) => a + b, 0)).toBe(14);
    expect(d.procs).toEqual([
      { key: '4242', created: 5n, value: { ios: 9n, bytes: 4608n, waitNs: 123456789n, cgroupId: String(0xfedcba9876543210n), comm: 'dd' } },
    ]);
    expect(d).toMatchObject({ cycle: 8n, more: true, entries: { devs: 1, procs: 12 } });
  });

  it('reads a comm of the full 16 bytes, and an empty run (object not armed)', () => {
    expect(decodeIoDump(rec(2, 1, proc(1n, 1n, 'abcdefghijklmnop'))).procs[0]!.value.comm).toBe('abcdefghijklmnop');
    expect(decodeIoDump(Buffer.alloc(0))).toEqual({ devs: [], procs: [], more: false, entries: { devs: 0, procs: 0 } });
  });

  it.each([
    ['a disk record of another size', rec(1, 1, Buffer.alloc(100)), /record kind 1 has 100 bytes, this build reads 576/],
    ['a process record of another size', rec(2, 1, Buffer.alloc(64)), /record kind 2 has 64 bytes, this build reads 56/],
    ['an unknown kind', rec(9, 1, Buffer.alloc(8)), /unknown record kind 9/],
    ['a record cut short', rec(3, 0, end(1n, 0n, 0n, 0n)).subarray(0, 40), /runs past the end/],
    ['stray bytes', Buffer.alloc(5), /5 stray bytes/],
  ])('refuses %s', (_, buf, error) => {
    expect(() => decodeIoDump(buf)).toThrow(error);
  });
});

describe('mapReads', () => {
  it('takes the reader choice, then TUNER_MAP_READS, and refuses another value', () => {
    expect(mapReads(undefined, {})).toBe('auto');
    expect(mapReads(undefined, { TUNER_MAP_READS: 'bpftool' })).toBe('bpftool');
    expect(mapReads('auto', { TUNER_MAP_READS: 'bpftool' })).toBe('auto');
    expect(() => mapReads(undefined, { TUNER_MAP_READS: 'json' })).toThrow(/TUNER_MAP_READS: expected auto or bpftool, got "json"/);
  });
});
