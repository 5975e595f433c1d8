/**
 * The dump iterator's records (bpf/sched.h: struct sched_rec + entry), built
 * here byte by byte from the C layout, decoded; and what a mismatch looks like.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeDump, dumpDeltas, indexDump, LastReadings, type DumpIndex } from '../../src/signals/sched/dump.js';
import { histCount } from '../../src/aggregate/histogram.js';

const COUNTS_SIZE = 10 * 8 + 2 * 40 * 4;
/** struct sched_proc: its head, struct sched_counts, and struct sched_hist_mask (the slots that are non-zero). */
const PROC_SIZE = 56 + COUNTS_SIZE + 16;

/** The masks of the non-zero slots of a struct sched_counts, as struct sched_proc ends with them. */
function nonzeroOf(c: Buffer): Buffer {
  const m = Buffer.alloc(16);
  for (let i = 0; i < 80; i++)
    if (c.readUInt32LE(80 + 4 * i) !== 0) {
      const word = 8 * (i >= 40 ? 1 : 0);
      m.writeBigUInt64LE(m.readBigUInt64LE(word) | (1n << BigInt(i % 40)), word);
    }
  return m;
}

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

/**
 * The sparse record (SCHED_REC_PROC_SPARSE) of a full process record: its
 * first 136 bytes, the masks of the non-zero slots, the slots, padded.
 */
function sparseOf(full: Buffer): Buffer {
  const body = full.subarray(16);
  const masks = nonzeroOf(body.subarray(56));
  const vals: number[] = [];
  for (let i = 0; i < 80; i++) {
    const v = body.readUInt32LE(136 + 4 * i);
    if (v !== 0) vals.push(v);
  }
  if (vals.length % 2) vals.push(0);
  const v = Buffer.alloc(4 * vals.length);
  vals.forEach((x, i) => v.writeUInt32LE(x, 4 * i));
  return Buffer.concat([header(4, 136 + 16 + v.length, full.readBigUInt64LE(8)), body.subarray(0, 136), masks, v]);
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
  const c = counts(5n, 2n ** 60n);
  return Buffer.concat([b, c, nonzeroOf(c)]);
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

  it('decodes a sparse process record as the full one', () => {
    const full = Buffer.concat([header(1, PROC_SIZE, 4242n), proc('spin')]);
    const sparse = sparseOf(full);
    expect(sparse.length).toBe(16 + 136 + 16 + 8);
    expect(decodeDump(sparse)).toEqual(decodeDump(full));
    expect(indexDump(sparse).sparse).toBe(true);
    expect(indexDump(full).sparse).toBe(false);
  });

  it('refuses a sparse record whose size disagrees with its masks, names slots beyond 39, or beside full records', () => {
    const full = Buffer.concat([header(1, PROC_SIZE, 1n), proc('a')]);
    const sparse = sparseOf(full);
    const short = Buffer.from(sparse);
    short.writeUInt32LE(sparse.readUInt32LE(4) - 8, 4);
    expect(() => decodeDump(short.subarray(0, short.length - 8))).toThrow(/expected a sparse struct sched_proc of 160 bytes, got 152/);
    const wide = Buffer.from(sparse);
    wide.writeUInt32LE(1 << 8, 16 + 136 + 4); // wakeup slot 40
    expect(() => decodeDump(wide)).toThrow(/slots beyond 39/);
    expect(() => decodeDump(Buffer.concat([full, sparseOf(Buffer.concat([header(1, PROC_SIZE, 2n), proc('b')]))]))).toThrow(
      /both full and sparse/,
    );
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
    expect(() => decodeDump(Buffer.concat([header(3, 16, 0n), Buffer.alloc(16)]))).toThrow(
      /expected a struct sched_cpu of 24 bytes, got 16/,
    );
  });

  it('keeps the last record of an entry written twice', () => {
    const buf = Buffer.concat([header(2, COUNTS_SIZE, 1n), counts(1n, 10n), header(2, COUNTS_SIZE, 1n), counts(1n, 20n)]);
    expect(decodeDump(buf).cgroups.map((c) => c.value.oncpu)).toEqual([20n]);
  });

  it('reads nothing from an empty dump', () => {
    expect(decodeDump(Buffer.alloc(0))).toEqual({ procs: [], cgroups: [], cpus: [] });
  });

  it('refuses an entry of another size, an unknown kind, and a cut record', () => {
    expect(() => decodeDump(Buffer.concat([header(1, PROC_SIZE - 8, 1n), Buffer.alloc(PROC_SIZE - 8)]))).toThrow(
      /expected a struct sched_proc of 472 bytes, got 464/,
    );
    expect(() => decodeDump(Buffer.concat([header(9, 8, 1n), Buffer.alloc(8)]))).toThrow(/unknown record kind 9/);
    expect(() => decodeDump(Buffer.concat([header(2, COUNTS_SIZE, 1n), Buffer.alloc(10)]))).toThrow(/cut/);
    expect(() => decodeDump(Buffer.alloc(9))).toThrow(/cut/);
  });
});

/** A struct sched_counts from named fields (offsets of bpf/sched.h), histograms as [slot, count] pairs. */
interface Fields {
  created?: bigint;
  oncpu?: bigint;
  runDelay?: bigint;
  nvcsw?: bigint;
  nivcsw?: bigint;
  waits?: bigint;
  waitNs?: bigint;
  wakeup?: Array<[number, number]>;
  preempt?: Array<[number, number]>;
}

function countsOf(f: Fields): Buffer {
  const b = Buffer.alloc(COUNTS_SIZE);
  b.writeBigUInt64LE(f.created ?? 1n, 0);
  b.writeBigUInt64LE(f.oncpu ?? 0n, 24);
  b.writeBigUInt64LE(f.runDelay ?? 0n, 32);
  b.writeBigUInt64LE(f.nvcsw ?? 0n, 48);
  b.writeBigUInt64LE(f.nivcsw ?? 0n, 56);
  b.writeBigUInt64LE(f.waits ?? 0n, 64);
  b.writeBigUInt64LE(f.waitNs ?? 0n, 72);
  for (const [k, n] of f.wakeup ?? []) b.writeUInt32LE(n, 80 + 4 * k);
  for (const [k, n] of f.preempt ?? []) b.writeUInt32LE(n, 240 + 4 * k);
  return b;
}

/** The kind of process records procOf makes: full (the compat object's) or sparse (the CO-RE object's). */
let sparseRecords = false;

function procOf(
  tgid: number,
  f: Fields & { comm?: string; exited?: boolean; max?: [bigint, bigint]; threads?: [number, bigint]; cgroup?: bigint },
): Buffer {
  const full = fullProcOf(tgid, f);
  return sparseRecords ? sparseOf(full) : full;
}

function fullProcOf(
  tgid: number,
  f: Fields & { comm?: string; exited?: boolean; max?: [bigint, bigint]; threads?: [number, bigint]; cgroup?: bigint },
): Buffer {
  const b = Buffer.alloc(56);
  b.writeBigUInt64LE(f.cgroup ?? 7n, 0);
  b.writeBigUInt64LE(f.max?.[0] ?? 0n, 8);
  b.writeBigUInt64LE(f.max?.[1] ?? 0n, 16);
  b.writeBigUInt64LE(f.threads?.[1] ?? 0n, 24);
  b.writeUInt32LE(f.threads?.[0] ?? 0, 32);
  b.writeUInt32LE(f.exited ? 1 : 0, 36);
  b.write(f.comm ?? `p${tgid}`, 40, 'utf8');
  const c = countsOf(f);
  return Buffer.concat([header(1, PROC_SIZE, BigInt(tgid)), b, c, nonzeroOf(c)]);
}

const cgroupOf = (id: bigint, f: Fields): Buffer => Buffer.concat([header(2, COUNTS_SIZE, id), countsOf(f)]);
const read = (...recs: Buffer[]) => indexDump(Buffer.concat(recs));
/** The last readings after the reads given, in order (none: nothing read before). */
function after(...reads: Array<DumpIndex | undefined>): LastReadings {
  const last = new LastReadings();
  for (const r of reads) if (r) dumpDeltas(r, last, 0);
  return last;
}

describe.each([false, true])('sched dump deltas (sparse process records: %s)', (sparse) => {
  beforeEach(() => {
    sparseRecords = sparse;
  });
  afterEach(() => {
    sparseRecords = false;
  });

  it('takes a histogram slot that wrapped to exactly zero (gone from a sparse record) modulo 2^32', () => {
    const prev = read(
      procOf(10, {
        nvcsw: 1n,
        wakeup: [
          [3, 0xfffffffe],
          [4, 1],
        ],
      }),
    );
    const cur = read(
      procOf(10, {
        nvcsw: 2n,
        wakeup: [
          [3, 0],
          [4, 2],
        ],
      }),
    );
    const [p] = dumpDeltas(cur, after(prev), 1).procs;
    expect([p!.histWakeup[3], p!.histWakeup[4], histCount(p!.histWakeup)]).toEqual([2, 1, 3]);
  });

  it('subtracts 64-bit counters across the 32-bit word boundary and histograms modulo 2^32', () => {
    const big = 2n ** 60n;
    const prev = read(procOf(10, { oncpu: big - 3n, runDelay: 2n ** 32n - 1n, nvcsw: 5n, wakeup: [[3, 0xffffffff]], preempt: [[9, 4]] }));
    const cur = read(procOf(10, { oncpu: big + 5n, runDelay: 2n ** 32n + 1n, nvcsw: 6n, waits: 3n, wakeup: [[3, 1]], preempt: [[9, 5]] }));
    const [p] = dumpDeltas(cur, after(prev), 1).procs;
    expect(p).toMatchObject({ pid: 10, comm: 'p10', cgroupId: '7', oncpuNs: 8, runDelayNs: 2, nvcsw: 1, nivcsw: 0, waits: 3 });
    expect(p!.histWakeup[3]).toBe(2);
    expect(p!.histPreempt[9]).toBe(1);
    expect(histCount(p!.histWakeup) + histCount(p!.histPreempt)).toBe(3);
  });

  it('counts a new or re-created entry from zero, skips idle ones, keeps one whose last thread just exited', () => {
    const prev = read(
      procOf(1, { oncpu: 100n }),
      procOf(2, { oncpu: 50n, created: 1n }),
      procOf(3, { oncpu: 9n }),
      procOf(4, { oncpu: 1n }),
    );
    const cur = read(
      procOf(1, { oncpu: 100n }), // idle
      procOf(2, { oncpu: 20n, created: 5n }), // deleted and re-created since
      procOf(3, { oncpu: 9n, exited: true }), // idle, but its last thread exited in the interval
      procOf(4, { oncpu: 1n, exited: true }),
      procOf(5, { nvcsw: 2n }), // new
    );
    const again = read(procOf(4, { oncpu: 1n, exited: true }));
    expect(dumpDeltas(cur, after(prev), 1).procs.map((p) => [p.pid, p.oncpuNs, p.nvcsw, p.exited])).toEqual([
      [2, 20, 0, false],
      [3, 0, 0, true],
      [4, 0, 0, true],
      [5, 0, 2, false],
    ]);
    expect(dumpDeltas(again, after(cur), 2).procs).toEqual([]); // reported exited once, not again
  });

  it('takes the maximum wait and the thread count only when the last flush cycle wrote them', () => {
    const cur = read(
      procOf(1, { nvcsw: 1n, max: [5000n, 8n], threads: [3, 8n] }),
      procOf(2, { nvcsw: 1n, max: [7000n, 7n], threads: [2, 7n] }),
    );
    const d = dumpDeltas(cur, after(undefined), 8).procs;
    expect(d.map((p) => [p.pid, p.maxWaitNs, p.threads])).toEqual([
      [1, 5000, 3],
      [2, undefined, 0],
    ]);
  });

  it('gives cgroups their deltas, 64-bit ids exact, idle ones skipped', () => {
    const id = 2n ** 63n + 1n;
    const prev = read(cgroupOf(id, { nivcsw: 4n }), cgroupOf(9n, { nivcsw: 1n }));
    const cur = read(cgroupOf(id, { nivcsw: 10n, preempt: [[2, 1]] }), cgroupOf(9n, { nivcsw: 1n }));
    const { cgroups } = dumpDeltas(cur, after(prev), 1);
    expect(cgroups.map((c) => [c.cgroupId, c.nivcsw, histCount(c.histPreempt)])).toEqual([[String(id), 6, 1]]);
    expect(dumpDeltas(read(procOf(1, { nvcsw: 1n, cgroup: id })), after(), 1).procs[0]!.cgroupId).toBe(String(id));
  });

  it('takes an entry a read does not hold (unchanged) from its last reading when it changes again', () => {
    const last = after(read(procOf(1, { oncpu: 100n }), procOf(2, { oncpu: 5n }), cgroupOf(9n, { nivcsw: 4n })));
    expect(dumpDeltas(read(procOf(2, { oncpu: 7n })), last, 1).procs.map((p) => [p.pid, p.oncpuNs])).toEqual([[2, 2]]);
    const d = dumpDeltas(read(procOf(1, { oncpu: 130n }), cgroupOf(9n, { nivcsw: 6n })), last, 2);
    expect(d.procs.map((p) => [p.pid, p.oncpuNs])).toEqual([[1, 30]]);
    expect(d.cgroups.map((c) => [c.cgroupId, c.nivcsw])).toEqual([['9', 2]]);
  });

  it('forgets an entry no read wrote for four reads (the kernel side deleted it by then)', () => {
    const last = after(read(procOf(1, { oncpu: 100n }), cgroupOf(9n, { nivcsw: 4n })));
    for (let i = 0; i < 3; i++) dumpDeltas(read(), last, i + 1);
    expect([last.procs.size + last.sparseProcs.size, last.cgroups.size]).toEqual([1, 1]);
    for (let i = 3; i < 8; i++) dumpDeltas(read(), last, i + 1);
    expect([last.procs.size + last.sparseProcs.size, last.cgroups.size]).toEqual([0, 0]);
    expect(dumpDeltas(read(procOf(1, { oncpu: 130n })), last, 9).procs.map((p) => p.oncpuNs)).toEqual([130]);
  });

  it('agrees with subtracting the fully decoded entries', () => {
    const a = [procOf(1, { oncpu: 123_456_789_012n, waits: 7n, wakeup: [[10, 3]] }), procOf(2, { nivcsw: 2n })];
    const b = [
      procOf(1, {
        oncpu: 223_456_789_013n,
        waits: 9n,
        wakeup: [
          [10, 4],
          [11, 1],
        ],
      }),
      procOf(2, { nivcsw: 5n }),
    ];
    const full = (bufs: Buffer[]) => decodeDump(Buffer.concat(bufs)).procs;
    const [p1, p2] = [full(a), full(b)];
    const d = dumpDeltas(read(...b), after(read(...a)), 1).procs;
    for (const [i, e] of d.entries()) {
      expect(e.oncpuNs).toBe(Number(p2[i]!.value.oncpu - p1[i]!.value.oncpu));
      expect(e.nivcsw).toBe(Number(p2[i]!.value.nivcsw - p1[i]!.value.nivcsw));
      expect([...e.histWakeup]).toEqual(p2[i]!.value.histWakeup.map((n, k) => n - p1[i]!.value.histWakeup[k]!));
    }
  });
  it('takes the last record of a process written twice in one read, once', () => {
    const cur = read(procOf(10, { nvcsw: 1n, wakeup: [[3, 1]] }), procOf(11, { nvcsw: 5n }), procOf(10, { nvcsw: 3n, wakeup: [[3, 4]] }));
    const { procs, procHist } = dumpDeltas(cur, after(), 1);
    expect(procs.map((p) => [p.pid, p.nvcsw, p.histWakeup[3]])).toEqual([
      [10, 3, 4],
      [11, 5, 0],
    ]);
    expect(procHist.wakeup[3]).toBe(4);
  });
  it("sums the processes' histograms, and prints a process delta with its histograms", () => {
    const prev = read(procOf(1, { nvcsw: 1n, wakeup: [[3, 5]] }), procOf(2, { nvcsw: 1n }));
    const cur = read(
      procOf(1, { nvcsw: 2n, wakeup: [[3, 7]], preempt: [[9, 1]] }),
      procOf(2, {
        nvcsw: 2n,
        wakeup: [
          [3, 1],
          [4, 2],
        ],
      }),
      procOf(3, { nvcsw: 1n, preempt: [[9, 4]] }),
    );
    const { procs, procHist } = dumpDeltas(cur, after(prev), 1);
    expect(procs.map((p) => p.pid)).toEqual([1, 2, 3]);
    const wake = [...procHist.wakeup];
    const pre = [...procHist.preempt];
    expect([wake[3], wake[4], pre[9], histCount(wake) + histCount(pre)]).toEqual([3, 2, 5, 10]);
    const printed = JSON.parse(JSON.stringify(procs[0])) as { histWakeup: number[]; histPreempt: number[]; pid: number };
    expect([printed.pid, printed.histWakeup.length, printed.histWakeup[3], printed.histPreempt[9]]).toEqual([1, 40, 2, 1]);
  });
});

describe('sched dump deltas, sparse against full records', () => {
  it('agree over random reads: slots anywhere in both histograms, wraps, entries re-created, entries not written', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const state = new Map<number, { created: bigint; nvcsw: bigint; slots: Map<number, number> }>();
    const full = new LastReadings();
    const sparse = new LastReadings();
    const view = (d: ReturnType<typeof dumpDeltas>) => d.procs.map((p) => [p.pid, p.nvcsw, [...p.histWakeup], [...p.histPreempt]]);
    for (let r = 1; r < 60; r++) {
      const recs: Buffer[] = [];
      for (let tgid = 1; tgid <= 40; tgid++) {
        let s = state.get(tgid);
        if (!s || rnd() < 0.05) state.set(tgid, (s = { created: BigInt(r), nvcsw: 0n, slots: new Map() }));
        if (rnd() < 0.5) continue; // unchanged: not written
        s.nvcsw++;
        const k = Math.floor(rnd() * 80);
        s.slots.set(k, ((s.slots.get(k) ?? 0) + (rnd() < 0.1 ? 0xfffffff0 : 1 + Math.floor(rnd() * 5))) >>> 0);
        const slots = [...s.slots];
        recs.push(
          fullProcOf(tgid, {
            created: s.created,
            nvcsw: s.nvcsw,
            wakeup: slots.filter(([i]) => i < 40),
            preempt: slots.filter(([i]) => i >= 40).map(([i, n]) => [i - 40, n]),
          }),
        );
      }
      const a = view(dumpDeltas(indexDump(Buffer.concat(recs)), full, r));
      expect(view(dumpDeltas(indexDump(Buffer.concat(recs.map(sparseOf))), sparse, r))).toEqual(a);
    }
    // Both ways of keeping a sparse reading were taken: slots in place, and more slots than fit there.
    expect(sparse.overflow.size).toBeGreaterThan(0);
    expect(sparse.overflow.size).toBeLessThan(sparse.sparseProcs.size);
  });
});
