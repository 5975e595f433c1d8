/**
 * The futex part of a run: the futex reader's raw per-process deltas for the
 * workload's process tree, summed over every read of the run, with the wait
 * histograms merged before any percentile is taken.
 */
import { histAdd, histCount, log2Quantile } from '../../aggregate/histogram.js';
import type { FutexDelta } from './record.js';
import { roundUs, type SignalSummary } from '../../record/summary.js';

export class FutexTotals {
  private waits = 0;
  private waitNs = 0;
  private timeouts = 0;
  private wakes = 0;
  private hist: number[] = [];
  private maxNs: number | undefined;
  private readonly pids = new Set<number>();

  add(d: FutexDelta): void {
    for (const p of d.procs) {
      this.waits += p.waits;
      this.waitNs += p.waitNs;
      this.timeouts += p.timeouts;
      this.wakes += p.wakes;
      this.hist = histAdd(this.hist, p.hist);
      if (p.maxWaitNs !== undefined) this.maxNs = Math.max(this.maxNs ?? 0, p.maxWaitNs);
      this.pids.add(p.pid);
    }
  }

  summary(): SignalSummary {
    const q = (p: number): number | null => {
      const v = log2Quantile(this.hist, p);
      return v === undefined ? null : roundUs(Math.min(v, this.maxNs ?? Infinity) / 1000);
    };
    return {
      metrics: { 'futex.wait_ns': this.waitNs, 'futex.waits': this.waits, 'futex.wait_p99_us': q(0.99) },
      details: {
        'futex.wait_p50_us': q(0.5),
        'futex.wait_max_us': roundUs(this.maxNs === undefined ? undefined : this.maxNs / 1000),
        'futex.timeouts': this.timeouts,
        'futex.wakes': this.wakes,
        'futex.histogram_waits': histCount(this.hist),
        'futex.processes': this.pids.size,
        // Waits per log2 slot of ns (slot k: [2^k, 2^(k+1))), for compare's HTML report.
        'futex.wait_hist_ns': this.hist,
      },
      warnings: [],
    };
  }
}

/** This run's totals for `record`; the summary carries the reader's warnings (optional hooks missing). */
export function runTotals(reader: { warnings?: readonly string[] }, _pid: number): { add(d: FutexDelta): void; summary(): SignalSummary } {
  const totals = new FutexTotals();
  return {
    add: (d) => totals.add(d),
    summary() {
      const s = totals.summary();
      s.warnings.push(...(reader.warnings ?? []));
      return s;
    },
  };
}
