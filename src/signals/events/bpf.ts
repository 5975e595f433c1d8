/**
 * The event feed: rare, compact events the objects of a session write to its
 * perf event array (run-queue, futex and I/O outliers; exec and exit in
 * scope). Read by `bpftool map event_pipe`, decoded here.
 *
 * Why this helper: the events come from the same CO-RE programs that keep the
 * counters, so an outlier costs one compare on paths already taken; bpftool
 * cannot read BPF ring buffers, but it can read a perf event array, and the
 * kernel itself reports what a full per-CPU ring drops (PERF_RECORD_LOST).
 * Events that could not even be written are counted per CPU in
 * tuner_ev_drops. Both are reported as `lost` in every interval record.
 */
import { u64 } from '../../tools/json.js';
import { JsonArrayStream } from '../../tools/json-stream.js';
import { startTool, type LongRunning } from '../../tools/run.js';
import { BpftoolBatch } from '../../tools/batch.js';
import { onExit } from '../../lifecycle/exit.js';
import type { Session } from '../../loader/session.js';
import { diskName, splitDev } from '../io/bpf.js';

/** Values of bpf/events.h. */
const TYPES: Record<number, TunerEvent['type']> = { 1: 'runq_outlier', 2: 'futex_wait', 3: 'io_outlier', 4: 'exec', 5: 'exit' };
const EV_TICK = 6;
export const EVENT_SIZE = 80;

/** struct tuner_event (bpf/events.h) as decodeEvent reads it; a test checks it against the objects' BTF. */
export const EVENT_LAYOUT = {
  tuner_event: {
    size: EVENT_SIZE,
    members: { type: 0, cpu: 4, ts_ns: 8, pid: 16, tid: 20, comm: 24, value_ns: 40, arg0: 48, arg1: 56, comm2: 64 },
  },
} as const;
const E = EVENT_LAYOUT.tuner_event.members;

export interface TunerEvent {
  type: 'runq_outlier' | 'futex_wait' | 'io_outlier' | 'exec' | 'exit';
  /** Kernel CLOCK_MONOTONIC ns of the event, and the wall-clock time it maps to. */
  mono_ns: string;
  ts: string;
  cpu: number;
  pid: number;
  tid: number;
  comm: string;
  /** The wait or latency, µs (outliers only). */
  value_us?: number;
  /** runq_outlier: the task that ran on the CPU just before the waiter got it. */
  ran_before?: { pid: number; tid: number; comm: string };
  /** futex_wait: the futex word and the wait's return value. */
  uaddr?: string;
  ret?: number;
  /** io_outlier: the disk, the operation and its size. */
  dev?: string;
  op?: 'read' | 'write' | 'other';
  bytes?: number;
}

function cstr(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

/** Decode one struct tuner_event; `monoToWall` maps kernel monotonic ns to epoch ms. */
export function decodeEvent(data: number[] | Uint8Array, monoToWall: (ns: bigint) => number): TunerEvent | undefined {
  const b = Buffer.from(data as Uint8Array);
  if (b.length < EVENT_SIZE) return undefined;
  const type = TYPES[b.readUInt32LE(E.type)];
  if (!type) return undefined;
  const mono = b.readBigUInt64LE(E.ts_ns);
  const ev: TunerEvent = {
    type,
    mono_ns: mono.toString(),
    ts: new Date(monoToWall(mono)).toISOString(),
    cpu: b.readUInt32LE(E.cpu),
    pid: b.readUInt32LE(E.pid),
    tid: b.readUInt32LE(E.tid),
    comm: cstr(b, E.comm, 16),
  };
  const value = Number(b.readBigUInt64LE(E.value_ns));
  const arg0 = b.readBigUInt64LE(E.arg0);
  const arg1 = b.readBigUInt64LE(E.arg1);
  if (type === 'runq_outlier') {
    ev.value_us = Math.round(value / 100) / 10;
    ev.ran_before = { pid: Number(arg0), tid: Number(arg1), comm: cstr(b, E.comm2, 16) };
  } else if (type === 'futex_wait') {
    ev.value_us = Math.round(value / 100) / 10;
    ev.uaddr = '0x' + arg0.toString(16);
    ev.ret = Number(BigInt.asIntN(64, arg1));
  } else if (type === 'io_outlier') {
    ev.value_us = Math.round(value / 100) / 10;
    const { major, minor } = splitDev(Number(arg0));
    ev.dev = diskName(major, minor);
    const op = Number(arg1 >> 32n);
    ev.op = op === 0 ? 'read' : op === 1 ? 'write' : 'other';
    ev.bytes = Number(arg1 & 0xffffffffn);
  }
  return ev;
}

export interface EventsRecord {
  signal: 'events';
  ts: string;
  interval_ms: number;
  counts: Partial<Record<TunerEvent['type'], number>>;
  /** Events the kernel could not deliver in the interval (ring full or not written). */
  lost: number;
  /** Lines of the helper's output that did not parse. */
  bad: number;
  events: TunerEvent[];
}

export interface EventsReader {
  next(): Promise<EventsRecord>;
  close(): void;
  helperPids(): number[];
}

/** Clock offset between kernel monotonic time and the wall clock (both read now). */
function monoToWallNow(): (ns: bigint) => number {
  const mono = process.hrtime.bigint(); // CLOCK_MONOTONIC, as bpf_ktime_get_ns
  const wall = Date.now();
  return (ns) => wall + Number(ns - mono) / 1e6;
}

export async function openEvents(session: Session): Promise<EventsReader> {
  // Pretty JSON under line buffering: about ten writes per event (unbuffered output makes one per token,
  // ~500 per event, and bpftool then falls behind: measured, events were lost). An event's last line
  // leaves bpftool with the next event; the sched flush iterator emits a tick every cycle for that.
  const proc: LongRunning = startTool('stdbuf', ['-oL', 'bpftool', '-jp', 'map', 'event_pipe', 'pinned', session.maps.tuner_events]);
  const removeExit = onExit(() => proc.child.kill('SIGKILL'));
  const stream = new JsonArrayStream();
  const toWall = monoToWallNow();
  let pending: TunerEvent[] = [];
  let lostRing = 0;
  proc.child.stdout?.setEncoding('utf8');
  proc.child.stdout?.on('data', (chunk: string) => {
    for (const el of stream.push(chunk) as Array<Record<string, unknown>>) {
      if (el.lost && typeof el.lost === 'object') {
        const l = el.lost as Record<string, unknown>;
        lostRing += Number(l.count ?? l.lost ?? 0);
      } else if (Array.isArray(el.data)) {
        if (el.data[0] === EV_TICK) continue;
        const ev = decodeEvent(el.data as number[], toWall);
        if (ev) pending.push(ev);
        else stream.bad++;
      }
    }
  });
  const batch = new BpftoolBatch();
  let dropsPrev = 0n;
  let last = process.hrtime.bigint();
  let closed = false;
  const readDrops = async (): Promise<bigint> => {
    const dump = (await batch.request(['map', 'dump', 'pinned', session.maps.tuner_ev_drops])) as Array<{
      values?: Array<{ value: unknown }>;
    }>;
    // No BTF on maps created by bpftool: values are raw little-endian bytes.
    let sum = 0n;
    for (const v of dump[0]?.values ?? []) sum += bytesToU64(v.value);
    return sum;
  };
  dropsPrev = await readDrops();
  let badPrev = 0;
  return {
    helperPids: () => [proc.child.pid, batch.pid].filter((p): p is number => p !== undefined),
    close: () => {
      if (closed) return;
      closed = true;
      removeExit();
      proc.child.kill('SIGTERM');
      batch.close();
    },
    async next(): Promise<EventsRecord> {
      // Let the helper deliver what the kernel wrote up to now.
      await new Promise((r) => setTimeout(r, 20));
      const drops = await readDrops();
      const now = process.hrtime.bigint();
      const events = pending.sort((a, b) => (BigInt(a.mono_ns) < BigInt(b.mono_ns) ? -1 : 1));
      pending = [];
      const counts: EventsRecord['counts'] = {};
      for (const e of events) counts[e.type] = (counts[e.type] ?? 0) + 1;
      const rec: EventsRecord = {
        signal: 'events',
        ts: new Date().toISOString(),
        interval_ms: Math.round(Number(now - last) / 1e5) / 10,
        counts,
        lost: lostRing + Number(drops - dropsPrev),
        bad: stream.bad - badPrev,
        events,
      };
      lostRing = 0;
      dropsPrev = drops;
      badPrev = stream.bad;
      last = now;
      return rec;
    },
  };
}

function bytesToU64(v: unknown): bigint {
  if (Array.isArray(v)) {
    let n = 0n;
    v.forEach((h, i) => (n |= BigInt(parseInt(String(h), 16)) << BigInt(8 * i)));
    return n;
  }
  return u64(v);
}
