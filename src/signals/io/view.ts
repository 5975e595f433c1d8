/** The terminal view of one `watch io` record. */
import chalk from 'chalk';
import Table from 'cli-table3';
import type { IoRecord } from './record.js';
import { fmtNs, fmtUs } from '../../output/format.js';

const kb = (b: number): string => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`);

export function renderIo(r: IoRecord): string {
  const style = { head: chalk.level > 0 ? ['cyan'] : [], border: [] };
  const devs = new Table({ head: ['DEV', 'IOPS', 'READ', 'WRITE', 'SEQ READS', 'P50', 'P99', 'MAX', 'QUEUE P99'], style });
  for (const d of r.devices) {
    devs.push([
      d.dev,
      d.iops,
      kb(d.read_bytes),
      kb(d.write_bytes),
      `${d.read_seq_pct}%`,
      fmtUs(d.lat.p50_us),
      fmtUs(d.lat.p99_us),
      fmtUs(d.lat.max_us),
      fmtUs(d.queue_lat.p99_us),
    ]);
  }
  const procs = new Table({ head: ['PID', 'COMM', 'CGROUP', 'IOS', 'BYTES', 'WAITED'], style });
  for (const p of r.procs) procs.push([p.pid, p.comm, p.cgroup, p.ios, kb(p.bytes), fmtNs(p.wait_ns)]);
  return [
    `${chalk.bold('io')}  ${r.ts.slice(11, 19)}  interval ${r.interval_ms} ms  ${r.ios} requests`,
    devs.toString(),
    procs.toString(),
  ].join('\n');
}
