/** The terminal view of one `watch sched` record. */
import chalk from 'chalk';
import Table from 'cli-table3';
import type { SchedRecord } from './record.js';
import { fmtNs, fmtPct, fmtRate, fmtUs } from '../../output/format.js';

export function renderSched(r: SchedRecord): string {
  const head = [
    chalk.bold('sched'),
    r.ts.slice(11, 19),
    `interval ${r.interval_ms} ms`,
    `switches ${fmtRate(r.switches, r.interval_ms)} (vol ${fmtRate(r.voluntary, r.interval_ms)}, invol ${fmtRate(r.involuntary, r.interval_ms)})`,
    `backend ${r.backend}`,
  ].join('  ');
  const q = r.runq;
  const runq = `run queue: ${q.count} waits, total ${fmtNs(q.wait_ns)}, p50 ${fmtUs(q.p50_us)}, p90 ${fmtUs(q.p90_us)}, p99 ${colorLatency(q.p99_us)}, max ${fmtUs(q.max_us)}  (after wakeup p99 ${fmtUs(q.wakeup.p99_us)}, after preemption p99 ${fmtUs(q.preempt.p99_us)})`;
  const cpus = 'cpus: ' + r.cpus.map((c) => `cpu${c.cpu} busy ${fmtPct(c.busy_pct, 0)} runq ${c.runq_len_avg.toFixed(2)}`).join('  |  ');

  const table = new Table({
    head: ['PID', 'COMM', 'CGROUP', 'ON-CPU', 'RUNQ WAIT', 'WAIT %', 'SWITCHES', 'P99', 'MAX'],
    style: { head: chalk.level > 0 ? ['cyan'] : [], border: [] },
    colAligns: ['right', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
  });
  const wall = r.interval_ms * 1e6;
  for (const p of r.procs) {
    const share = wall > 0 ? (100 * p.runq_wait_ns) / wall : 0;
    table.push([
      p.pid,
      p.comm + (p.exited ? chalk.dim(' (exited)') : ''),
      truncate(p.cgroup, 28),
      fmtNs(p.oncpu_ns),
      fmtNs(p.runq_wait_ns),
      share >= 20 ? chalk.red(fmtPct(share)) : fmtPct(share),
      fmtRate(p.switches, r.interval_ms),
      colorLatency(p.runq.p99_us),
      fmtUs(p.runq.max_us),
    ]);
  }
  return [head, runq, cpus, table.toString()].join('\n');
}

function colorLatency(us: number | null): string {
  const s = fmtUs(us);
  if (us === null) return s;
  if (us >= 10_000) return chalk.red(s);
  if (us >= 1_000) return chalk.yellow(s);
  return s;
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : '…' + s.slice(s.length - n + 1);
}
