/** The terminal view of one `watch net` record. */
import chalk from 'chalk';
import Table from 'cli-table3';
import type { NetRecord } from './record.js';

const rate = (bps: number): string => (bps >= 1 << 20 ? `${(bps / (1 << 20)).toFixed(1)} MiB/s` : `${(bps / 1024).toFixed(1)} KiB/s`);

export function renderNet(r: NetRecord): string {
  const style = { head: chalk.level > 0 ? ['cyan'] : [], border: [] };
  const missing = Object.entries(r.hooks)
    .filter(([, ok]) => !ok)
    .map(([h]) => h);
  const head = `${chalk.bold('net')}  ${r.ts.slice(11, 19)}  interval ${r.interval_ms} ms  retransmits ${r.retransmits}  drops ${r.drops}${missing.length ? chalk.dim(`  (unavailable here: ${missing.join(', ')})`) : ''}`;
  const procs = new Table({ head: ['PID', 'COMM', 'TX', 'RX', 'SENDS', 'RECVS'], style });
  for (const p of r.procs) procs.push([p.pid, p.comm, rate(p.tx_bps), rate(p.rx_bps), p.tx_calls, p.rx_calls]);
  const lines = [head, procs.toString()];
  if (r.drop_reasons.length) lines.push('drops: ' + r.drop_reasons.map((d) => `${d.reason} ${d.count}`).join(', '));
  if (r.retrans_peers.length) lines.push('retransmits to: ' + r.retrans_peers.map((p) => `${p.peer} ${p.count}`).join(', '));
  return lines.join('\n');
}
