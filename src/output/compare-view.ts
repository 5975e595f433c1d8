/** The terminal view of a comparison: one row per gated metric, worst verdicts first. */
import chalk from 'chalk';
import Table from 'cli-table3';
import type { CompareResult } from '../commands/compare.js';
import type { MetricComparison } from '../compare/analyse.js';
import type { Verdict } from '../compare/verdict.js';
import { fmtChange, fmtInterval, fmtP, fmtValue } from './metric-format.js';

const ORDER: Record<Verdict, number> = { regressed: 0, 'too-noisy': 1, improved: 2, unchanged: 3 };

/** Rows sorted worst first, then in recording order. */
export function sortedRows(r: CompareResult): MetricComparison[] {
  return r.metrics.map((m, i) => ({ m, i })).sort((a, b) => ORDER[a.m.verdict] - ORDER[b.m.verdict] || a.i - b.i).map(({ m }) => m);
}

function colour(v: Verdict): string {
  switch (v) {
    case 'regressed':
      return chalk.red.bold(v);
    case 'improved':
      return chalk.green(v);
    case 'too-noisy':
      return chalk.yellow(v);
    case 'unchanged':
      return chalk.dim(v);
  }
}

/** The one-line outcome shared by every format. */
export function headline(r: CompareResult): string {
  const t = `${(r.threshold * 100).toFixed(0)}%`;
  if (r.regressed.length > 0) {
    const which = r.regressed.map((m) => `${m} ${fmtChange(r.metrics.find((x) => x.metric === m)!.ratio)}`).join(', ');
    return `${r.regressed.length} metric${r.regressed.length === 1 ? '' : 's'} regressed beyond ${t} (alpha ${r.alpha}): ${which}`;
  }
  const noisy = r.too_noisy.length > 0 ? `; ${r.too_noisy.length} too noisy to say` : '';
  return `no regression beyond ${t} (alpha ${r.alpha}) in ${r.metrics.length} gated metrics${noisy}`;
}

export function renderCompare(r: CompareResult): string {
  const lines: string[] = [];
  lines.push(`${chalk.bold('BASE')} ${r.base.path} (${r.base.runs} runs, ${r.base.recorded})  vs  ${chalk.bold('NEW')} ${r.new.path} (${r.new.runs} runs, ${r.new.recorded})`);
  for (const w of r.warnings) lines.push(chalk.red.bold(`WARNING: ${w}`));
  const level = `${Math.round((1 - r.alpha) * 100)}% CI`;
  const table = new Table({
    head: ['METRIC', 'BASE', 'NEW', 'CHANGE', level, 'P (ADJ)', 'VERDICT'],
    style: { head: chalk.level > 0 ? ['cyan'] : [], border: [] },
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'left'],
  });
  for (const m of sortedRows(r)) {
    const unit = r.info[m.metric]!.unit;
    const p = m.ratio !== null && m.ratio < 1 ? m.p_improved_adjusted : m.p_regressed_adjusted;
    table.push([m.metric, fmtValue(m.base.median, unit), fmtValue(m.new.median, unit), fmtChange(m.ratio), fmtInterval(m.ci?.ratio), fmtP(p), colour(m.verdict)]);
  }
  lines.push(table.toString());
  lines.push((r.regressed.length > 0 ? chalk.red.bold : chalk.green)(headline(r)));
  return lines.join('\n');
}
