/** The terminal view of one `watch psi` record. */
import chalk from 'chalk';
import Table from 'cli-table3';
import type { PsiRecord, PsiResourceRecord } from './record.js';

function cell(r: PsiResourceRecord | null, kind: 'some' | 'full'): string {
  if (!r) return '-';
  const pct = kind === 'some' ? r.some_pct : r.full_pct;
  const avg10 = kind === 'some' ? r.some_avg10 : r.full_avg10;
  if (pct === undefined || avg10 === undefined) return '-';
  const s = `${pct.toFixed(1)}% (avg10 ${avg10.toFixed(1)})`;
  return pct >= 20 ? chalk.red(s) : pct >= 5 ? chalk.yellow(s) : s;
}

export function renderPsi(r: PsiRecord): string {
  const table = new Table({
    head: ['SCOPE', 'CPU SOME', 'MEM SOME', 'MEM FULL', 'IO SOME', 'IO FULL'],
    style: { head: chalk.level > 0 ? ['cyan'] : [], border: [] },
  });
  table.push(['system', cell(r.cpu, 'some'), cell(r.memory, 'some'), cell(r.memory, 'full'), cell(r.io, 'some'), cell(r.io, 'full')]);
  for (const c of r.cgroups)
    table.push([c.cgroup, cell(c.cpu, 'some'), cell(c.memory, 'some'), cell(c.memory, 'full'), cell(c.io, 'some'), cell(c.io, 'full')]);
  return `${chalk.bold('psi')}  ${r.ts.slice(11, 19)}  interval ${r.interval_ms} ms  (stall share of the interval; avg10 from the kernel)\n${table.toString()}`;
}
