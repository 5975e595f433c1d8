/** Lines for `run` and `replay` events: one line per decision (`old -> new because ...`), a summary at the end. */
import chalk from 'chalk';
import type { Mode, RunEvent, SummaryEvent } from '../engine/events.js';
import type { RevertResult } from '../commands/revert.js';
import type { ValidateResult } from '../commands/validate.js';

const time = (ts: string): string => ts.slice(11, 19);

export function renderEvent(e: RunEvent, mode: Mode): string {
  const would = mode === 'apply' ? '' : 'would ';
  switch (e.type) {
    case 'decision':
      return `${time(e.ts)} ${chalk.bold(e.recipe)}: ${e.kind === 'revert' ? would : e.applied ? '' : would}${e.reason}`;
    case 'skip':
      return chalk.dim(`${time(e.ts)} ${e.recipe}: ${e.action} on ${e.target}: no change: ${e.reason}`);
    case 'refused':
      return chalk.yellow(`${time(e.ts)} ${e.recipe}: refused to change ${e.knob}: ${e.reason}`);
    case 'yield':
      return chalk.yellow(`${time(e.ts)} ${e.recipe}: yield ${e.knob}: ${e.reason}`);
    case 'error':
      return chalk.red(`${time(e.ts)} ${e.recipe}: ${e.action} on ${e.target}: ${e.message}`);
    case 'notice':
      return `${time(e.ts)} ${e.recipe ? `${e.recipe}: ` : ''}${e.message}`;
    case 'recovered':
      return `${time(e.ts)} recovered from ${e.journal}: ${e.knob} ${e.result === 'restored' ? `${e.found} -> ${e.original}` : e.result}${e.detail ? ` (${e.detail})` : ''}`;
    case 'summary':
      return renderSummary(e);
  }
}

export function renderSummary(s: SummaryEvent): string {
  const n = s.recipes.reduce((k, r) => k + r.changes.length, 0);
  const verb = s.mode === 'apply' ? 'change' : 'would-be change';
  const lines = [
    chalk.bold(
      `summary (${s.mode}): ${n} ${verb}${n === 1 ? '' : 's'} in ${s.windows} window${s.windows === 1 ? '' : 's'}${s.first_change_ms !== null ? `; first after ${(s.first_change_ms / 1000).toFixed(1)} s` : ''}`,
    ),
  ];
  for (const r of s.recipes) {
    lines.push(`  ${r.recipe}:${r.changes.length === 0 ? ' no changes' : ''}`);
    for (const c of r.changes) lines.push(`    ${time(c.ts)} ${c.knob}: ${c.old} -> ${c.new}  (${c.reason})`);
    for (const v of r.reverted)
      lines.push(`    at exit ${v.knob}: ${v.result}${v.result === 'restored' ? ` to ${v.to}` : v.result === 'kept' ? ` at ${v.to}` : ''}`);
  }
  return lines.join('\n');
}

const REVERT_WORDS: Record<string, string> = {
  restored: 'restored',
  unchanged: 'already at its original',
  yielded: 'left alone: changed by someone else since tuner set it',
  gone: 'gone (nothing to restore)',
  failed: 'NOT restored: the write failed',
  refused: 'REFUSED, not touched',
};

/** One line per journal and per knob with what happened to it, then the totals and what the exit code means. */
export function renderRevert(r: RevertResult): string {
  const lines: string[] = [];
  for (const j of r.journals) {
    lines.push(j.error ? chalk.red(j.error) : `${j.journal}${j.owner ? ` (tuner pid ${j.owner.pid}, gone)` : ''}`);
    for (const o of j.outcomes) {
      const what =
        o.result === 'restored'
          ? `restored ${o.found} -> ${o.original}`
          : o.result === 'unchanged'
            ? `already ${o.original}`
            : REVERT_WORDS[o.result]!;
      const line = `  ${o.knob}: ${what}${o.result === 'yielded' ? ` (now ${o.found}, original ${o.original})` : ''}${o.detail && o.result !== 'yielded' ? `: ${o.detail}` : ''}`;
      lines.push(o.result === 'failed' || o.result === 'refused' ? chalk.red(line) : line);
    }
    if (!j.removed && !j.error)
      lines.push('  journal kept: something could not be restored or was refused; fix it and run tuner revert again');
  }
  for (const l of r.live) lines.push(`kept ${l} (its tuner is running and reverts its own changes)`);
  for (const p of r.pins) lines.push(`removed pins ${p}`);
  if (lines.length === 0) return `nothing to revert (journal directory ${r.journalDir})`;
  const c = r.counts;
  const total = Object.values(c).reduce((a, b) => a + b, 0);
  if (total > 0) {
    lines.push(
      `${total} knob${total === 1 ? '' : 's'}: ${c.restored} restored, ${c.unchanged} already at the original, ${c.yielded} changed by someone else since, ${c.gone} gone, ${c.failed} failed, ${c.refused} refused`,
    );
  }
  if (r.exitCode === 1)
    lines.push(chalk.red('exit 1: something tuner changed may still be changed (a failed write or an unreadable journal)'));
  if (r.exitCode === 2) lines.push(chalk.red('exit 2: a journal or a knob in it was refused; nothing refused was applied'));
  return lines.join('\n');
}

export function renderValidate(v: ValidateResult): string {
  const lines: string[] = [];
  for (const r of v.recipes) {
    lines.push(`ok ${r.file} (${r.name}): when ${r.when} -> ${r.actions.join(', ')}`);
    for (const s of r.signals) lines.push(`  ${s}`);
    for (const w of r.warnings) lines.push(`  ${w}`);
  }
  return lines.join('\n');
}
