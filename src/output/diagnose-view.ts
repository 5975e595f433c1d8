/** The terminal view of `tuner diagnose`. */
import chalk from 'chalk';
import type { DiagnoseReport } from '../commands/diagnose.js';

const SEV = { critical: chalk.red.bold('CRITICAL'), warn: chalk.yellow('WARN    '), info: chalk.green('INFO    ') } as const;

export function renderDiagnose(r: DiagnoseReport): string {
  const s = r.summary;
  const who = r.pid !== null ? `pid ${r.pid} (${r.comm})` : `cgroup ${r.cgroup}`;
  const lines = [
    chalk.bold(`diagnose ${who}`) +
      `: ${s.threads} threads, cgroup ${r.cgroup ?? '-'}, CPUs ${s.cpus_allowed ?? '-'}, memory nodes ${s.mems_allowed ?? '-'}` +
      (s.cpu_pct !== null ? `, CPU ${s.cpu_pct}% of one CPU` : '') +
      (s.cpu_quota_cpus !== null ? `, quota ${s.cpu_quota_cpus} CPUs` : '') +
      ` over ${(r.duration_ms / 1000).toFixed(1)} s`,
  ];
  if (r.exited) lines.push(chalk.yellow('the target exited during the window: the findings cover what was measured before'));
  lines.push('');
  for (const f of r.findings) {
    lines.push(`${SEV[f.severity]} ${chalk.bold(f.kind)}: ${f.summary}`);
    lines.push(`         evidence: ${f.evidence.line}`);
    for (const s of f.suggest)
      lines.push(`         next: ${s.command}${s.recipe ? chalk.dim('  (audit mode: prints what it would do)') : ''}`);
  }
  for (const m of r.missing) lines.push(chalk.dim(`not measured: ${m.signal}: ${m.reason}`));
  return lines.join('\n');
}
