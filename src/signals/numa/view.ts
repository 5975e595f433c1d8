/** The terminal view of one `watch numa` record. */
import chalk from 'chalk';
import Table from 'cli-table3';
import type { NumaRecord } from './record.js';

export function renderNuma(r: NumaRecord): string {
  const style = { head: chalk.level > 0 ? ['cyan'] : [], border: [] };
  const nodes = new Table({ head: ['NODE', 'CPUS', 'HIT', 'MISS', 'MISS%', 'OTHER%'], style });
  for (const n of r.nodes) nodes.push([n.node, n.cpus, n.numa_hit, n.numa_miss, n.miss_pct.toFixed(1), n.other_pct.toFixed(1)]);
  let out = `${chalk.bold('numa')}  ${r.ts.slice(11, 19)}  interval ${r.interval_ms} ms  (${r.nodes.length} node${r.nodes.length === 1 ? '' : 's'})\n${nodes.toString()}`;
  if (r.procs.length > 0) {
    const procs = new Table({ head: ['PID', 'COMM', 'PAGES', 'RUN NODE', 'HOME NODE', 'REMOTE%'], style });
    for (const p of r.procs) procs.push([p.pid, p.comm, p.total_pages, p.run_node ?? '-', p.home_node ?? '-', p.remote_pct.toFixed(1)]);
    out += '\n' + procs.toString();
  }
  return out;
}
