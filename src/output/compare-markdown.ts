/**
 * A comparison as GitHub-flavoured markdown, fit for a pull-request comment:
 * the outcome first, loud warnings, one table row per metric (gated first,
 * worst first), and how to read it. The first line is a marker comment so a CI step
 * can find and update its previous comment.
 */
import type { CompareResult, ProfileRef } from '../commands/compare.js';
import type { Verdict } from '../compare/verdict.js';
import { headline, sortedRows } from './compare-view.js';
import { fmtInterval, fmtP, fmtRowChange, fmtValue, rowP } from './metric-format.js';

export const MARKDOWN_MARKER = '<!-- tuner-compare -->';

const ICON: Record<Verdict, string> = { regressed: '🔴', 'needs-more-runs': '🟠', improved: '🟢', 'too-noisy': '🟡', unchanged: '⚪' };

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string): string => '`' + s.replace(/`/g, "'") + '`';

function describe(label: string, p: ProfileRef): string {
  return `**${label}** ${code(p.path)}: ${p.runs} runs of ${code(p.command.join(' '))}, recorded ${p.recorded} on kernel ${p.env.kernel}, ${p.env.cpus} CPUs (${p.env.cpu_model}), tuner ${p.env.tool.version}`;
}

export function renderMarkdown(r: CompareResult): string {
  const out: string[] = [MARKDOWN_MARKER];
  out.push(`### ${r.exit_code !== 0 ? '❌' : '✅'} tuner compare: ${headline(r)}`, '');
  for (const w of r.warnings) out.push('> [!WARNING]', `> ${w}`, '');
  for (const n of r.notes) out.push('> [!NOTE]', `> ${n}`, '');
  out.push(describe('BASE', r.base) + '  ', describe('NEW', r.new), '');
  const level = `${Math.round((1 - r.alpha) * 100)}% CI`;
  out.push(`| | metric | gate | BASE | NEW | change | ${level} | p (adj.) | verdict |`, '|---|---|---|---:|---:|---:|---|---:|---|');
  for (const m of sortedRows(r)) {
    const unit = r.info[m.metric]!.unit;
    const p = rowP(m);
    const verdict = r.failing.includes(m.metric) ? `**${m.verdict}**` : m.verdict;
    out.push(
      `| ${ICON[m.verdict]} | ${code(m.metric)} | ${m.gated ? 'gated' : 'reported'} | ${fmtValue(m.base.median, unit)} | ${fmtValue(m.new.median, unit)} | ${fmtRowChange(m, r.threshold)} | ${cell(fmtInterval(m.ci?.ratio))} | ${fmtP(p)} | ${verdict} |`,
    );
  }
  out.push(
    '',
    '<details><summary>How to read this</summary>',
    '',
    `- BASE and NEW are medians over runs; change is NEW / BASE - 1; every metric is lower-is-better.`,
    `- ${level}: bootstrap interval of the ratio of medians.`,
    `- gate: the exit status looks at the gated metrics (by default the time totals; \`--metrics\` chooses); the others are reported with their own verdicts.`,
    `- p (adj.): a change beyond the threshold, one-sided: twice the smaller p-value of a trimmed t-test on log values and a Mann-Whitney U test, adjusted (Benjamini-Hochberg) over the gated metrics' regressions, and separately over every other claim. alpha = ${r.alpha}.`,
    `- **regressed**: p < ${r.alpha} and the median beyond +${(r.threshold * 100).toFixed(0)}% (and above the metric's floor). On a gated metric this fails the check.`,
    `- needs-more-runs: every NEW run differs from every BASE run by more than the threshold, but these run counts cannot make it significant; the row's reason says how many runs would. A worsening of a gated metric fails the check${r.allow_needs_more_runs ? ' (allowed here by --allow-needs-more-runs)' : ''}.`,
    `- too-noisy: the interval of the change straddles ±${(r.threshold * 100).toFixed(0)}%; more runs (\`--repeat\`) or a quieter machine would tell.`,
    '',
    '</details>',
  );
  return out.join('\n') + '\n';
}
