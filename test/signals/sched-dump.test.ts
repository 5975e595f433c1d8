/**
 * The dump iterator's records (bpf/sched.h: struct sched_rec + entry), built
 * here byte by byte from the C layout, decoded; and what a mismatch looks like.
 */
import { describe, expect, it } from 'vitest';
import { decodeDump } from '../../src/signals/sched-dump.js';

const COUNTS_SIZE = 10 * 8 + 2 * 40 * 4;
const PROC_SIZE = 56 + COUNTS_SIZE;

function header(kind: number, size: number, key: bigint): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(kind, 0);
  b.writeUInt32LE(size, 4);
  b.writeBigUInt64LE(key, 8);
  return b;
}

/** struct sched_counts with created, oncpu_ns, waits, wait_ns and one slot of each histogram set. */
function counts(created: bigint, oncpu: bigint): Buffer {
  const b = Buffer.alloc(COUNTS_SIZE);
  b.writeBigUInt64LE(created, 0);
  b.writeBigUInt64LE(oncpu, 24);
  b.writeBigUInt64LE(3n, 64); // waits
  b.writeBigUInt64LE(12_345n, 72); // wait_ns
  b.writeUInt32LE(2, 80 + 4 * 13); // hist_wakeup[13]
  b.writeUInt32LE(1, 80 + 160 + 4 * 22); // hist_preempt[22]
  return b;
}

function proc(comm: string): Buffer {
  const b = Buffer.alloc(56);
  b.writeBigUInt64LE(0xabcdn, 0); // cgroup_id
  b.writeBigUInt64LE(9_000n, 8); // max_wait_ns
  b.writeBigUInt64LE(7n, 16); // max_cycle
  b.writeBigUInt64LE(7n, 24); // threads_cycle
  b.writeUInt32LE(3, 32); // threads
  b.writeUInt32LE(1, 36); // exited
  b.write(comm, 40, 'utf8');
  return Buffer.concat([b, counts(5n, 2n ** 60n)]);
}

describe('sched dump records', () => {
  it('decodes process and cgroup entries, 64-bit counters included', () => {
    const buf = Buffer.concat([header(1, PROC_SIZE, 4242n), proc('spin'), header(2, COUNTS_SIZE, 2n ** 63n + 1n), counts(6n, 10n)]);
    const { procs, cgroups } = decodeDump(buf);
    expect(procs).toHaveLength(1);
    const p = procs[0]!;
    expect(p.key).toBe('4242');
    expect(p.created).toBe('5');
    expect(p.value).toMatchObject({ comm: 'spin', cgroupId: String(0xabcd), maxWaitNs: 9000n, maxCycle: 7n, threads: 3, exited: true });
    expect(p.value.oncpu).toBe(2n ** 60n);
    expect(p.value.waits).toBe(3n);
    expect(p.value.waitNs).toBe(12_345n);
    expect(p.value.histWakeup[13]).toBe(2);
    expect(p.value.histPreempt[22]).toBe(1);
    expect(p.value.histWakeup.reduce((a, b) => a + b, 0) + p.value.histPreempt.reduce((a, b) => a + b, 0)).toBe(3);
    expect(cgroups).toEqual([expect.objectContaining({ key: String(2n ** 63n + 1n), created: '6' })]);
  });

  it('decodes a buffer that does not start on a 4-byte boundary', () => {
    const rec = Buffer.concat([header(1, PROC_SIZE, 7n), proc('odd')]);
    const shifted = Buffer.concat([Buffer.alloc(1), rec]).subarray(1);
    expect(shifted.byteOffset % 4).not.toBe(0);
    const p = decodeDump(shifted).procs[0]!;
    expect(p.value).toMatchObject({ comm: 'odd', threads: 3, exited: true });
    expect(p.value.histWakeup[13]).toBe(2);
  });

  it('decodes CPU records (struct sched_cpu: switches, wait_ns, dumped), sorted by CPU, the last of a CPU kept', () => {
    const cpu = (switches: bigint, waitNs: bigint): Buffer => {
      const b = Buffer.alloc(24);
      b.writeBigUInt64LE(switches, 0);
      b.writeBigUInt64LE(waitNs, 8);
      b.writeBigUInt64LE(4n, 16);
      return b;
    };
    const buf = Buffer.concat([header(3, 24, 1n), cpu(10n, 2n ** 62n), header(3, 24, 0n), cpu(5n, 7n), header(3, 24, 1n), cpu(11n, 8n)]);
    expect(decodeDump(buf).cpus).toEqual([
      { cpu: 0, switches: 5n, waitNs: 7n },
      { cpu: 1, switches: 11n, waitNs: 8n },
    ]);
    expect(() => decodeDump(Buffer.concat([header(3, 16, 0n), Buffer.alloc(16)]))).toThrow(/expected a struct sched_cpu of 24 bytes, got 16/);
  });

  it('keeps the last record of an entry written twice', () => {
    const buf = Buffer.concat([header(2, COUNTS_SIZE, 1n), counts(1n, 10n), header(2, COUNTS_SIZE, 1n), counts(1n, 20n)]);
    expect(decodeDump(buf).cgroups.map((c) => c.value.oncpu)).toEqual([20n]);
  });

  it('reads nothing from an empty dump', () => {
    expect(decodeDump(Buffer.alloc(0))).toEqual({ procs: [], cgroups: [], cpus: [] });
  });

  it('refuses an entry of another size, an unknown kind, and a cut record', () => {
    expect(() => decodeDump(Buffer.concat([header(1, PROC_SIZE - 8, 1n), Buffer.alloc(PROC_SIZE - 8)]))).toThrow(/expected a struct sched_proc of 456 bytes, got 448/);
    expect(() => decodeDump(Buffer.concat([header(9, 8, 1n), Buffer.alloc(8)]))).toThrow(/unknown record kind 9/);
    expect(() => decodeDump(Buffer.concat([header(2, COUNTS_SIZE, 1n), Buffer.alloc(10)]))).toThrow(/cut/);
    expect(() => decodeDump(Buffer.alloc(9))).toThrow(/cut/);
  });
});
