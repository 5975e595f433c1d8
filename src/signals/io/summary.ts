/**
 * The block I/O part of a run: the io reader's raw deltas for the requests
 * the workload's process tree submitted, summed over every read of the run.
 * Waits and counts are per submitting process; the latency percentiles come
 * from the request-latency histograms of every disk, merged.
 */
import { histAdd, log2Quantile } from '../../aggregate/histogram.js';
import type { IoDelta } from './record.js';
import { roundUs, type SignalSummary } from '../../record/summary.js';

interface Disk {
  ios: number;
  readBytes: number;
  writeBytes: number;
  lat: number[];
  maxNs: number | undefined;
}

export class IoTotals {
  private ios = 0;
  private waitNs = 0;
  private readonly disks = new Map<string, Disk>();

  add(d: IoDelta): void {
    for (const p of d.procs) {
      this.ios += p.ios;
      this.waitNs += p.waitNs;
    }
    for (const v of d.devices) {
      const disk = this.disks.get(v.dev) ?? { ios: 0, readBytes: 0, writeBytes: 0, lat: [], maxNs: undefined };
      disk.ios += v.reads + v.writes + v.others;
      disk.readBytes += v.readBytes;
      disk.writeBytes += v.writeBytes;
      disk.lat = histAdd(disk.lat, v.lat);
      if (v.maxLatNs !== undefined) disk.maxNs = Math.max(disk.maxNs ?? 0, v.maxLatNs);
      this.disks.set(v.dev, disk);
    }
  }

  summary(): SignalSummary {
    const disks = [...this.disks];
    const all = histAdd(...disks.map(([, d]) => d.lat));
    const maxes = disks.map(([, d]) => d.maxNs).filter((x): x is number => x !== undefined);
    const maxNs = maxes.length ? Math.max(...maxes) : undefined;
    const q = (h: number[], p: number, max: number | undefined): number | null => {
      const v = log2Quantile(h, p);
      return v === undefined ? null : roundUs(Math.min(v, max ?? Infinity) / 1000);
    };
    return {
      metrics: { 'io.wait_ns': this.waitNs, 'io.ios': this.ios, 'io.lat_p99_us': q(all, 0.99, maxNs) },
      details: {
        'io.lat_p50_us': q(all, 0.5, maxNs),
        'io.lat_max_us': roundUs(maxNs === undefined ? undefined : maxNs / 1000),
        'io.read_bytes': disks.reduce((s, [, d]) => s + d.readBytes, 0),
        'io.write_bytes': disks.reduce((s, [, d]) => s + d.writeBytes, 0),
        'io.devices': disks.map(([dev, d]) => ({ dev, ios: d.ios, lat_p99_us: q(d.lat, 0.99, d.maxNs) })),
      },
      warnings: [],
    };
  }
}

/** This run's totals for `record`. */
export function runTotals(_reader: unknown, _pid: number): IoTotals {
  return new IoTotals();
}
