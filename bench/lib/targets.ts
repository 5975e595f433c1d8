/** The targets of the benchmark (issue 7), each with the figure that decides it. */
import type { AgentResult } from '../phases/agent.js';
import type { KernelResult } from '../phases/kernel.js';
import type { ScaleResult } from '../phases/scale.js';
import type { SlowdownResult } from '../phases/slowdown.js';
import type { StartupResult } from '../phases/startup.js';
import type { Summary } from './stats.js';

export interface Target {
  what: string;
  limit: string;
  figure: string;
  met: boolean;
}

export interface Results {
  kernel?: KernelResult;
  slowdown?: SlowdownResult;
  agent?: AgentResult;
  startup?: StartupResult;
  scale?: ScaleResult;
}

const f = (x: number, d = 1): string => x.toFixed(d);

export function evaluate(r: Results): Target[] {
  const out: Target[] = [];
  for (const k of r.kernel?.placements ?? []) {
    const ns = (c: string): number => k.summary.find((s) => s.config === c)!.nsPerSwitch;
    out.push({
      what: `in-kernel ns per context switch vs bpftrace runqlat (${k.placement})`,
      limit: '<= 0.3x',
      figure: `${f(k.tunerOverBpftrace, 2)}x (${f(ns('tuner'))} vs ${f(ns('bpftrace'))} ns)`,
      met: k.tunerOverBpftrace <= 0.3,
    });
    out.push({
      what: `in-kernel ns per context switch vs empty tp_btf program (${k.placement})`,
      limit: '<= 2x',
      figure: `${f(k.tunerOverEmpty, 2)}x (${f(ns('tuner'))} vs ${f(ns('empty'))} ns)`,
      met: k.tunerOverEmpty <= 2,
    });
  }
  for (const p of r.slowdown?.placements ?? []) {
    const s = p.slowdown.tuner;
    out.push({
      what: `perf bench sched pipe slowdown with tuner watch sched (${p.placement})`,
      limit: '<= 3%',
      figure: `${f(100 * s.median)}% (bpftrace ${f(100 * p.slowdown.bpftrace.median)}%)`,
      met: s.median <= 0.03,
    });
  }
  if (r.agent) {
    const worst = Math.max(r.agent.idle.cpuPercent, r.agent.load.cpuPercent);
    out.push({
      what: 'agent CPU at a 1 s interval, --json (idle / under load)',
      limit: '<= 1% of one CPU',
      figure: `${f(r.agent.idle.cpuPercent, 2)}% / ${f(r.agent.load.cpuPercent, 2)}% (table view: ${f(r.agent.view.cpuPercent, 2)}%)`,
      met: worst <= 1,
    });
    const peak = Math.max(r.agent.idle.peakRssMb, r.agent.load.peakRssMb, r.agent.view.peakRssMb, r.startup?.startupPeakRssMb ?? 0);
    out.push({
      what: 'peak RSS of the process tree (start-up included when measured)',
      limit: '<= 80 MB',
      figure: `${f(peak)} MB`,
      met: peak <= 80,
    });
    for (const w of (r.agent.daemon?.windows ?? []).filter((x) => !x.bpftoolReads)) {
      const what = `tuner agent, ${w.signals.length === 5 ? 'every signal' : w.signals.join(',')}, ${w.load ? 'under load' : 'idle'}: CPU / peak RSS`;
      out.push({
        what,
        limit: '<= 1% of one CPU, <= 100 MB',
        figure: `${f(w.cpuPercent.median, 2)}% / ${f(w.peakRssMb)} MB`,
        met: w.cpuPercent.median <= 1 && w.peakRssMb <= 100,
      });
    }
  }
  if (r.startup) {
    const s = r.startup;
    const firstRecord = (what: string, x: { firstRecordMs: Summary; intervalMs: Summary; overheadMs: Summary }): Target => ({
      what,
      limit: '<= 300 ms + interval',
      figure: `${f(x.firstRecordMs.median, 0)} ms = ${f(x.intervalMs.median, 0)} ms interval + ${f(x.overheadMs.median, 0)} ms`,
      met: x.overheadMs.median <= 300,
    });
    out.push(firstRecord('first record of watch sched --json --count 1 --interval 1s', s));
    if (s.withoutExtraCa)
      out.push(firstRecord('  the same without NODE_EXTRA_CA_CERTS (node reads that CA bundle at every start)', s.withoutExtraCa));
  }
  if (r.scale) {
    for (const x of r.scale.skipped.filter((x) => x.threads === 10_000)) {
      out.push({
        what: `map read, 10,000 threads in ${x.processes.toLocaleString('en-US')} processes`,
        limit: '<= 50 ms',
        figure: `not measured: ${x.reason}`,
        met: false,
      });
    }
    for (const row of r.scale.idle) {
      const n = row.processes.toLocaleString('en-US');
      out.push({
        what: `map read, ${n} idle processes, first read`,
        limit: '<= 50 ms',
        figure: `${f(row.first.wallMs)} ms (median of ${row.first.wallMsRuns.length}: ${f(Math.min(...row.first.wallMsRuns))} to ${f(Math.max(...row.first.wallMsRuns))})`,
        met: row.first.wallMs <= 50,
      });
      out.push({
        what: `map read, ${n} idle processes, steady`,
        limit: '<= 50 ms',
        figure: `${f(row.steady.wallMs)} ms`,
        met: row.steady.wallMs <= 50,
      });
    }
    for (const row of r.scale.rows.filter((x) => x.threads === 10_000)) {
      out.push({
        what: `map read, 10,000 threads in ${row.processes === 1 ? '1 process' : `${row.processes.toLocaleString('en-US')} processes`}`,
        limit: '<= 50 ms',
        figure: `${f(row.wallMs)} ms`,
        met: row.wallMs <= 50,
      });
    }
  }
  return out;
}
