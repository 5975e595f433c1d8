/** The terminal view of `tuner doctor`. */
import chalk from 'chalk';
import type { DoctorReport } from '../commands/doctor.js';

const MARK = { pass: chalk.green('pass'), warn: chalk.yellow('warn'), fail: chalk.red('FAIL') } as const;

export function renderDoctor(r: DoctorReport): string {
  const width = Math.max(...r.checks.map((c) => c.title.length));
  const lines = r.checks.map((c) => {
    const line = `${MARK[c.status]}  ${c.title.padEnd(width)}  ${c.detail}`;
    return c.fix ? `${line}\n      ${' '.repeat(width)}  ${chalk.dim('fix:')} ${c.fix}` : line;
  });
  lines.push('');
  lines.push(
    r.ok
      ? chalk.green(`tuner can run here (backend: ${r.backend}).`)
      : chalk.red('tuner cannot run `watch sched` here: fix the FAIL lines above.'),
  );
  return lines.join('\n');
}
