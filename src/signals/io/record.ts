/** The block I/O signal's per-interval delta and the record `watch io --json` prints. */
import { latencySummary, type LatencySummary } from '../futex/record.js';

export interface IoDevDelta {
  dev: string;
  major: number;
  minor: number;
  reads: number;
  writes: number;
  others: number;
  readBytes: number;
  writeBytes: number;
  /** Reads that began where the previous read on the disk ended. */
  readSeq: number;
  maxLatNs?: number;
  lat: number[];
  readLat: number[];
  queue: number[];
}

export interface IoProcDelta {
  pid: number;
  comm: string;
  cgroupId: string;
  ios: number;
  bytes: number;
  waitNs: number;
}

export interface IoDelta {
  intervalNs: number;
  devices: IoDevDelta[];
  procs: IoProcDelta[];
}

export interface IoDeviceRecord {
  dev: string;
  major: number;
  minor: number;
  iops: number;
  reads: number;
  writes: number;
  read_bytes: number;
  write_bytes: number;
  /** Share of reads that continued the previous read, 0-100. */
  read_seq_pct: number;
  avg_read_kb: number;
  lat: LatencySummary;
  read_lat: LatencySummary;
  queue_lat: LatencySummary;
}

export interface IoRecord {
  signal: 'io';
  ts: string;
  interval_ms: number;
  ios: number;
  devices: IoDeviceRecord[];
  procs: Array<{ pid: number; comm: string; cgroup: string; ios: number; bytes: number; wait_ns: number }>;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

export function buildIoRecord(
  d: IoDelta,
  opts: { now: Date; top: number; pids?: number[]; cgroupName: (id: string) => string; commOf?: (pid: number) => string },
): IoRecord {
  const secs = d.intervalNs / 1e9;
  let procs = d.procs;
  if (opts.pids) {
    const by = new Map(procs.map((p) => [p.pid, p]));
    procs = opts.pids.map((pid) => by.get(pid) ?? { pid, comm: opts.commOf?.(pid) ?? '', cgroupId: '', ios: 0, bytes: 0, waitNs: 0 });
  }
  const devices = d.devices
    .map((v): IoDeviceRecord => {
      const ops = v.reads + v.writes + v.others;
      return {
        dev: v.dev,
        major: v.major,
        minor: v.minor,
        iops: secs > 0 ? r1(ops / secs) : 0,
        reads: v.reads,
        writes: v.writes,
        read_bytes: v.readBytes,
        write_bytes: v.writeBytes,
        read_seq_pct: v.reads > 0 ? r1((100 * v.readSeq) / v.reads) : 0,
        avg_read_kb: v.reads > 0 ? r1(v.readBytes / v.reads / 1024) : 0,
        lat: latencySummary(v.lat, v.maxLatNs),
        read_lat: latencySummary(v.readLat, undefined),
        queue_lat: latencySummary(v.queue, undefined),
      };
    })
    .sort((a, b) => b.iops - a.iops);
  const procRecords = procs.map((p) => ({
    pid: p.pid,
    comm: p.comm,
    cgroup: p.cgroupId ? opts.cgroupName(p.cgroupId) : '',
    ios: p.ios,
    bytes: p.bytes,
    wait_ns: p.waitNs,
  }));
  if (!opts.pids) procRecords.sort((a, b) => b.wait_ns - a.wait_ns || b.ios - a.ios);
  return {
    signal: 'io',
    ts: opts.now.toISOString(),
    interval_ms: r1(d.intervalNs / 1e6),
    ios: devices.reduce((s, v) => s + v.reads + v.writes, 0) + d.devices.reduce((s, v) => s + v.others, 0),
    devices,
    procs: opts.pids ? procRecords : procRecords.slice(0, opts.top),
  };
}
