/** The terminal view of a comparison: one row per metric, the gated ones first, worst verdicts first. */
import chalk from 'chalk';
import Table from 'cli-table3';
import type { CompareResult } from '../commands/compare.js';
import type { MetricComparison } from '../compare/analyse.js';
import type { Verdict } from '../compare/verdict.js';
import { fmtInterval, fmtP, fmtRowChange, fmtValue, rowP } from './metric-format.js';

const ORDER: Record<Verdict, number> = { regressed: 0, 'needs-more-runs': 1, 'too-noisy': 2, improved: 3, unchanged: 4 };

/** Rows sorted: gated first, worst first, then in recording order. */
export function sortedRows(r: CompareResult): MetricComparison[] {
  return r.metrics
    .map((m, i) => ({ m, i }))
    .sort((a, b) => Number(b.m.gated) - Number(a.m.gated) || ORDER[a.m.verdict] - ORDER[b.m.verdict] || a.i - b.i)
    .map(({ m }) => m);
}

function colour(v: Verdict): string {
  switch (v) {
    case 'regressed':
      return chalk.red.bold(v);
    case 'improved':
      return chalk.green(v);
    case 'needs-more-runs':
      return chalk.magenta.bold(v);
    case 'too-noisy':
      return chalk.yellow(v);
    case 'unchanged':
      return chalk.dim(v);
  }
}

/** The one-line outcome shared by every format. */
export function headline(r: CompareResult): string {
  const t = `${(r.threshold * 100).toFixed(0)}%`;
  const change = (m: string): string =>
    `${m} ${fmtRowChange(
      r.metrics.find((x) => x.metric === m)!,
      r.threshold,
    )}`;
  const plural = (n: number): string => `${n} metric${n === 1 ? '' : 's'}`;
  if (r.regressed.length > 0) {
    return `${plural(r.regressed.length)} regressed beyond ${t} (alpha ${r.alpha}): ${r.regressed.map(change).join(', ')}`;
  }
  const waiting = r.metrics.filter((m) => m.verdict === 'needs-more-runs' && m.direction === 'worse').map((m) => m.metric);
  if (waiting.length > 0) {
    const need = Math.max(0, ...r.metrics.map((m) => (waiting.includes(m.metric) ? (m.runs_needed ?? 0) : 0)));
    const how = need > 0 ? `record about ${need} runs a side` : 'record more runs';
    const outcome = r.allow_needs_more_runs ? 'allowed by --allow-needs-more-runs' : 'the gate fails until it is decided';
    return `${plural(waiting.length)} worse beyond ${t} in every run, not yet significant (${how}; ${outcome}): ${waiting.map(change).join(', ')}`;
  }
  const noisy = r.too_noisy.length > 0 ? `; ${r.too_noisy.length} too noisy to say` : '';
  return `no regression beyond ${t} (alpha ${r.alpha}) in ${r.gated.length} gated metric${r.gated.length === 1 ? '' : 's'}${noisy}`;
}

export function renderCompare(r: CompareResult): string {
  const lines: string[] = [];
  lines.push(
    `${chalk.bold('BASE')} ${r.base.path} (${r.base.runs} runs, ${r.base.recorded})  vs  ${chalk.bold('NEW')} ${r.new.path} (${r.new.runs} runs, ${r.new.recorded})`,
  );
  for (const n of r.notes) lines.push(chalk.dim(`note: ${n}`));
  for (const w of r.warnings) lines.push(chalk.red.bold(`WARNING: ${w}`));
  const level = `${Math.round((1 - r.alpha) * 100)}% CI`;
  const table = new Table({
    head: ['METRIC', 'GATE', 'BASE', 'NEW', 'CHANGE', level, 'P (ADJ)', 'VERDICT'],
    style: { head: chalk.level > 0 ? ['cyan'] : [], border: [] },
    colAligns: ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'left'],
  });
  for (const m of sortedRows(r)) {
    const unit = r.info[m.metric]!.unit;
    const p = rowP(m);
    table.push([
      m.metric,
      m.gated ? 'gated' : chalk.dim('reported'),
      fmtValue(m.base.median, unit),
      fmtValue(m.new.median, unit),
      fmtRowChange(m, r.threshold),
      fmtInterval(m.ci?.ratio),
      fmtP(p),
      colour(m.verdict),
    ]);
  }
  lines.push(table.toString());
  lines.push((r.exit_code !== 0 ? chalk.red.bold : chalk.green)(headline(r)));
  return lines.join('\n');
}
