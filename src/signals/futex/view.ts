/** The terminal view of one `watch futex` record. */
import chalk from 'chalk';
import Table from 'cli-table3';
import type { FutexRecord } from './record.js';
import { fmtNs, fmtRate, fmtUs } from '../../output/format.js';

export function renderFutex(r: FutexRecord): string {
  const head = `${chalk.bold('futex')}  ${r.ts.slice(11, 19)}  interval ${r.interval_ms} ms  waits ${fmtRate(r.waits, r.interval_ms)}, blocked ${fmtNs(r.wait_ns)} (p50 ${fmtUs(r.wait.p50_us)}, p99 ${fmtUs(r.wait.p99_us)}, max ${fmtUs(r.wait.max_us)}), wakes ${fmtRate(r.wakes, r.interval_ms)}, timeouts ${r.timeouts}`;
  const style = { head: chalk.level > 0 ? ['cyan'] : [], border: [] };
  const procs = new Table({ head: ['PID', 'COMM', 'WAITS', 'BLOCKED', 'P99', 'MAX', 'WAKES'], style });
  for (const p of r.procs) procs.push([p.pid, p.comm, p.waits, fmtNs(p.wait_ns), fmtUs(p.wait.p99_us), fmtUs(p.wait.max_us), p.wakes]);
  const addrs = new Table({ head: ['PID', 'FUTEX', 'MAX WAITERS', 'WAITS', 'BLOCKED'], style });
  for (const a of r.addrs) addrs.push([a.pid, a.uaddr, a.waiters, a.waits, fmtNs(a.wait_ns)]);
  return [head, procs.toString(), 'most contended futex words:', addrs.toString()].join('\n');
}
