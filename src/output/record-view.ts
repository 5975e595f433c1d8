/** The terminal view of a recorded profile: where, what, and each metric's spread over the runs. */
import chalk from 'chalk';
import Table from 'cli-table3';
import { median } from 'simple-statistics';
import { metricInfo } from '../record/metrics.js';
import type { Profile } from '../record/profile.js';
import { cvPercent, fmtValue } from './metric-format.js';
import { fmtNs } from './format.js';
import { runWhat, type RunEvent } from './record-progress.js';

export function renderProfile(p: Profile, file: string): string {
  const lines: string[] = [];
  const warm = p.warmup > 0 ? ` after ${p.warmups.length} warm-up run${p.warmups.length === 1 ? '' : 's'}` : '';
  const side = p.alternated ? ` (${p.alternated.side === 'base' ? 'BASE' : 'NEW'}, in alternation with ${p.alternated.partner})` : '';
  lines.push(`${chalk.bold('recorded')} ${p.runs.length} of ${p.repeat} runs of \`${p.command.join(' ')}\`${warm} -> ${file}${side}`);
  const e = p.env;
  lines.push(
    `kernel ${e.kernel} · ${e.cpus} CPUs · ${e.cpu_model} · tuner ${e.tool.version} · signals ${p.signals.join(', ') || '(none)'}`,
  );
  lines.push(`exit codes: ${p.runs.map((r) => (r.exit_code === null ? (r.signal ?? 'signal') : String(r.exit_code))).join(' ')}`);

  const names = [...new Set(p.runs.flatMap((r) => Object.keys(r.metrics)))];
  const table = new Table({
    head: ['METRIC', 'MEDIAN', 'MIN', 'MAX', 'CV'],
    style: { head: chalk.level > 0 ? ['cyan'] : [], border: [] },
    colAligns: ['left', 'right', 'right', 'right', 'right'],
  });
  for (const name of names) {
    const unit = (p.metrics[name] ?? metricInfo(name)).unit;
    const v = p.runs.map((r) => r.metrics[name]).filter((x): x is number => typeof x === 'number');
    if (v.length === 0) {
      table.push([name, '-', '-', '-', '-']);
      continue;
    }
    const cv = cvPercent(v);
    table.push([
      name,
      fmtValue(median(v), unit),
      fmtValue(Math.min(...v), unit),
      fmtValue(Math.max(...v), unit),
      cv === null ? '-' : `${cv.toFixed(1)}%`,
    ]);
  }
  lines.push(table.toString());
  const warnings = p.runs.flatMap((r) => r.warnings.map((w) => `run ${r.run}: ${w}`));
  for (const w of warnings) lines.push(chalk.yellow(`warning: ${w}`));
  const total = p.runs.reduce((s, r) => s + (r.metrics.wall_ns ?? 0), 0) + p.warmups.reduce((s, r) => s + r.wall_ns, 0);
  lines.push(chalk.dim(`workload time ${fmtNs(total)}; recording took ${fmtNs((Date.parse(p.finished) - Date.parse(p.started)) * 1e6)}`));
  return lines.join('\n');
}

/** One progress line per run, for stderr. */
export function renderRunLine(r: RunEvent & { run: Profile['runs'][number] }): string {
  const what = runWhat(r);
  const exit = r.run.exit_code === null ? `killed by ${r.run.signal}` : `exit ${r.run.exit_code}`;
  const extra = r.run.timed_out ? ' (timed out)' : '';
  return `tuner record: ${what}: ${fmtNs(r.run.metrics.wall_ns ?? null)}, ${exit}${extra}`;
}
