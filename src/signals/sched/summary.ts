/**
 * The scheduler part of a run: the sched reader's raw per-process deltas for
 * the workload's process tree, summed over every read of the run. Totals are
 * the kernel's own counters (on-CPU time, run_delay, nvcsw/nivcsw); the
 * latency percentiles come from the merged log2 histograms of the whole run,
 * never from percentiles of intervals.
 */
import { existsSync } from 'node:fs';
import { histAdd, histCount, log2Quantile } from '../../aggregate/histogram.js';
import { procHists, type SchedDelta } from './record.js';
import { roundUs, type SignalSummary } from '../../record/summary.js';

export class SchedTotals {
  private oncpuNs = 0;
  private runDelayNs = 0;
  private nvcsw = 0;
  private nivcsw = 0;
  private wakeup: number[] = [];
  private preempt: number[] = [];
  private maxNs: number | undefined;
  /** Every process seen, and whether its last thread has exited. */
  private readonly exited = new Map<number, { comm: string; exited: boolean }>();

  add(d: SchedDelta): void {
    const h = procHists(d);
    this.wakeup = histAdd(this.wakeup, h.wakeup);
    this.preempt = histAdd(this.preempt, h.preempt);
    for (const p of d.procs) {
      this.oncpuNs += p.oncpuNs;
      this.runDelayNs += p.runDelayNs;
      this.nvcsw += p.nvcsw;
      this.nivcsw += p.nivcsw;
      if (p.maxWaitNs !== undefined) this.maxNs = Math.max(this.maxNs ?? 0, p.maxWaitNs);
      const seen = this.exited.get(p.pid);
      this.exited.set(p.pid, { comm: p.comm || seen?.comm || '', exited: p.exited || (seen?.exited ?? false) });
    }
  }

  /** Processes of the tree that were seen and had not exited at the last read. */
  running(): Array<{ pid: number; comm: string }> {
    return [...this.exited].filter(([, v]) => !v.exited).map(([pid, v]) => ({ pid, comm: v.comm }));
  }

  summary(): SignalSummary {
    const all = histAdd(this.wakeup, this.preempt);
    // A percentile of a log2 histogram can overshoot inside its slot: clamp it to the exact maximum.
    const q = (h: number[], p: number): number | null => {
      const v = log2Quantile(h, p);
      return v === undefined ? null : roundUs(Math.min(v, this.maxNs ?? Infinity) / 1000);
    };
    return {
      metrics: {
        cpu_ns: this.oncpuNs,
        'sched.runq_wait_ns': this.runDelayNs,
        'sched.runq_p50_us': q(all, 0.5),
        'sched.runq_p99_us': q(all, 0.99),
        'sched.switches': this.nvcsw + this.nivcsw,
      },
      details: {
        'sched.voluntary': this.nvcsw,
        'sched.involuntary': this.nivcsw,
        'sched.runq_waits': histCount(all),
        'sched.runq_p90_us': q(all, 0.9),
        'sched.runq_max_us': roundUs(this.maxNs === undefined ? undefined : this.maxNs / 1000),
        'sched.runq_wakeup_p99_us': q(this.wakeup, 0.99),
        'sched.runq_preempt_p99_us': q(this.preempt, 0.99),
        'sched.processes': this.exited.size,
        // Waits per log2 slot of ns (slot k: [2^k, 2^(k+1))), for compare's HTML report.
        'sched.runq_hist_ns': all,
      },
      warnings: [],
    };
  }
}

/** This run's totals for `record`; the summary warns about processes of the workload that outlived it. */
export function runTotals(_reader: unknown, pid: number): { add(d: SchedDelta): void; summary(): SignalSummary } {
  const totals = new SchedTotals();
  return {
    add: (d) => totals.add(d),
    summary() {
      const s = totals.summary();
      for (const p of totals.running()) {
        if (p.pid !== pid && existsSync(`/proc/${p.pid}`)) {
          s.warnings.push(`process ${p.pid} (${p.comm}) of the workload outlived the command; what it did afterwards is not in this run`);
        }
      }
      return s;
    },
  };
}
