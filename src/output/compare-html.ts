/**
 * A comparison as one self-contained HTML page (`compare --html FILE`): the
 * outcome, warnings, the verdict table, a chart per gated metric (every run
 * of both sides, medians, the interval of the change, the threshold) and the
 * run-queue and futex wait histograms of both sides overlaid. The charts are
 * SVG rendered here by Vega; the page loads nothing at view time.
 */
import { writeFileSync } from 'node:fs';
import type { CompareResult } from '../commands/compare.js';
import { UsageError } from '../errors.js';
import { readProfile, type Profile } from '../record/profile.js';
import { histogramSpec, metricSpec, SIDE_COLOURS, toSvg, VERDICT_COLOURS, type HistSide } from '../report/charts.js';
import { headline, sortedRows } from './compare-view.js';
import { fmtInterval, fmtP, fmtRowChange, fmtValue, rowP } from './metric-format.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The histograms `record` keeps per run, summed over the runs of a profile (empty when it kept none). */
export const HISTOGRAMS = [
  { key: 'sched.runq_hist_ns', title: 'Run-queue wait: share of waits per latency slot' },
  { key: 'futex.wait_hist_ns', title: 'Futex wait: share of waits per latency slot' },
] as const;

export function summedHistogram(p: Profile, key: string): number[] {
  const out: number[] = [];
  for (const r of p.runs) {
    const h = r.details[key];
    if (!Array.isArray(h)) continue;
    h.forEach((v, k) => {
      if (typeof v === 'number') out[k] = (out[k] ?? 0) + v;
    });
  }
  return Array.from(out, (v) => v ?? 0);
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1180px; color: #222; padding: 0 16px; }
h1 { font-size: 20px; margin: 0 0 8px; }
.outcome { font-size: 16px; padding: 10px 14px; border-radius: 6px; margin: 12px 0; }
.fail { background: #fdecea; border: 1px solid #e6b0aa; }
.pass { background: #eafaf1; border: 1px solid #a9dfbf; }
.note { color: #555; margin: 6px 0; }
.warning { background: #fff4e5; border-left: 4px solid #e67e22; padding: 6px 10px; margin: 6px 0; }
table { border-collapse: collapse; margin: 12px 0; font-size: 13px; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child, td.v, td.g { text-align: left; }
td.v { font-weight: 600; }
tr.reported { color: #777; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; }
.chart { border: 1px solid #eee; border-radius: 6px; padding: 8px; }
.key span { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin: 0 4px 0 12px; }
.muted { color: #666; }
`;

export async function renderHtml(r: CompareResult, profiles: { base: Profile; new: Profile }): Promise<string> {
  const level = `${Math.round((1 - r.alpha) * 100)}% CI`;
  const rows = sortedRows(r);
  const table = rows
    .map((m) => {
      const unit = r.info[m.metric]!.unit;
      const p = rowP(m);
      return (
        `<tr class="${m.gated ? 'gated' : 'reported'}"><td><code>${esc(m.metric)}</code></td><td class="g">${m.gated ? 'gated' : 'reported'}</td>` +
        `<td>${esc(fmtValue(m.base.median, unit))}</td><td>${esc(fmtValue(m.new.median, unit))}</td><td>${esc(fmtRowChange(m, r.threshold))}</td>` +
        `<td>${esc(fmtInterval(m.ci?.ratio))}</td><td>${esc(fmtP(p))}</td>` +
        `<td class="v" style="color:${VERDICT_COLOURS[m.verdict]}">${esc(m.verdict)}</td><td class="g muted">${esc(m.reason)}</td></tr>`
      );
    })
    .join('\n');

  const charts: string[] = [];
  for (const m of rows.filter((x) => x.gated)) {
    const info = r.info[m.metric]!;
    const svg =
      m.base.n + m.new.n > 0
        ? await toSvg(metricSpec(m, info.unit, r.threshold, info.label))
        : '<p class="muted">no values on either side</p>';
    charts.push(`<figure class="chart metric-chart" data-metric="${esc(m.metric)}" data-verdict="${esc(m.verdict)}">${svg}</figure>`);
  }

  const hists: string[] = [];
  for (const h of HISTOGRAMS) {
    const sides: HistSide[] = [
      { side: 'BASE', slots: summedHistogram(profiles.base, h.key) },
      { side: 'NEW', slots: summedHistogram(profiles.new, h.key) },
    ];
    const body = sides.every((s) => s.slots.some((v) => v > 0))
      ? await toSvg(histogramSpec(h.title, sides))
      : `<p class="muted">${esc(h.title)}: not in these profiles (recorded without the signal, or by an older tuner)</p>`;
    hists.push(`<figure class="chart histogram-chart" data-histogram="${esc(h.key)}">${body}</figure>`);
  }

  const side = (label: string, p: CompareResult['base']): string =>
    `<li><b>${label}</b> <code>${esc(p.path)}</code>: ${p.runs} runs of <code>${esc(p.command.join(' '))}</code>, recorded ${esc(p.recorded)}, kernel ${esc(p.env.kernel)}, ${p.env.cpus} CPUs</li>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tuner compare: ${esc(headline(r))}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>tuner compare</h1>
<ul>${side('BASE', r.base)}${side('NEW', r.new)}</ul>
<div class="outcome ${r.exit_code === 0 ? 'pass' : 'fail'}" id="outcome" data-exit-code="${r.exit_code}">${esc(headline(r))} (exit status ${r.exit_code})</div>
${r.notes.map((n) => `<div class="note">${esc(n)}</div>`).join('\n')}
${r.warnings.map((w) => `<div class="warning">WARNING: ${esc(w)}</div>`).join('\n')}
<table id="verdicts">
<thead><tr><th>metric</th><th>gate</th><th>BASE</th><th>NEW</th><th>change</th><th>${level}</th><th>p (adj.)</th><th>verdict</th><th>why</th></tr></thead>
<tbody>
${table}
</tbody>
</table>
<h2>Gated metrics</h2>
<p class="key muted">Each point is one run<span style="background:${SIDE_COLOURS.BASE}"></span>BASE<span style="background:${SIDE_COLOURS.NEW}"></span>NEW;
thick ticks are the medians; the bar on NEW is the ${level} of the change applied to BASE's median; the dashed line is BASE's median +${Math.round(r.threshold * 100)}% (the threshold).</p>
<div class="charts" id="metric-charts">
${charts.join('\n')}
</div>
<h2>Wait histograms</h2>
<div class="charts" id="histograms">
${hists.join('\n')}
</div>
<p class="muted">Threshold ${Math.round(r.threshold * 100)}%, alpha ${r.alpha}. Verdicts: docs/compare.md.</p>
</body>
</html>
`;
}

/** Write the report; an unwritable path is a usage error naming --html. */
export async function writeHtmlReport(r: CompareResult, file: string): Promise<void> {
  const html = await renderHtml(r, { base: readProfile(r.base.path), new: readProfile(r.new.path) });
  try {
    writeFileSync(file, html);
  } catch (err) {
    throw new UsageError(`--html ${file}: cannot write the report: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}
