/**
 * A comparison as JUnit XML for CI test reports: one test case per metric
 * (a reported metric's regression is not a failure); a regression (and a worsening that needs more runs) is a failure, "too noisy" is skipped, warnings go to
 * system-err, and the settings and environments are properties.
 */
import type { CompareResult } from '../commands/compare.js';
import { fmtInterval, fmtP, fmtRowChange, fmtValue } from './metric-format.js';

export function xmlEscape(s: string): string {
  return s
    .replace(/[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const attr = (pairs: Record<string, string | number>): string =>
  Object.entries(pairs)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');

export function renderJunit(r: CompareResult, now = new Date()): string {
  const tests = r.metrics.length;
  const failures = r.failing.length;
  const skipped = r.metrics.filter((m) => m.verdict === 'too-noisy').length;
  const counts = { tests, failures, errors: 0, skipped };
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites${attr({ name: 'tuner compare', ...counts })}>`);
  out.push(
    `  <testsuite${attr({ name: `tuner compare ${r.base.path} vs ${r.new.path}`, ...counts, timestamp: now.toISOString().slice(0, 19) })}>`,
  );
  const props: Record<string, string | number> = {
    threshold: r.threshold,
    alpha: r.alpha,
    'base.runs': r.base.runs,
    'new.runs': r.new.runs,
    'base.kernel': r.base.env.kernel,
    'new.kernel': r.new.env.kernel,
    'base.cpus': r.base.env.cpus,
    'new.cpus': r.new.env.cpus,
    'base.cpu_model': r.base.env.cpu_model,
    'new.cpu_model': r.new.env.cpu_model,
    'environments.differ': r.env_differences.length > 0 ? 'true' : 'false',
  };
  out.push('    <properties>');
  for (const [k, v] of Object.entries(props)) out.push(`      <property${attr({ name: k, value: v })}/>`);
  out.push('    </properties>');
  for (const m of r.metrics) {
    const unit = r.info[m.metric]!.unit;
    const signal = m.metric.includes('.') ? m.metric.split('.')[0]! : 'run';
    const body =
      `BASE median ${fmtValue(m.base.median, unit)} (${m.base.n} runs), NEW median ${fmtValue(m.new.median, unit)} (${m.new.n} runs), ` +
      `change ${fmtRowChange(m, r.threshold)}, ${Math.round((1 - r.alpha) * 100)}% CI ${fmtInterval(m.ci?.ratio)}, ` +
      `p regressed ${fmtP(m.p_regressed_adjusted)}, p improved ${fmtP(m.p_improved_adjusted)} (adjusted): ${m.reason}`;
    out.push(`    <testcase${attr({ classname: `tuner.${signal}`, name: m.metric, time: 0 })}>`);
    if (m.verdict === 'regressed' && m.gated)
      out.push(
        `      <failure${attr({ type: 'regressed', message: `${m.metric} regressed ${fmtRowChange(m, r.threshold)}: ${m.reason}` })}>${xmlEscape(body)}</failure>`,
      );
    else if (r.failing.includes(m.metric))
      out.push(
        `      <failure${attr({ type: m.verdict, message: `${m.metric} ${fmtRowChange(m, r.threshold)}, needs more runs: ${m.reason}` })}>${xmlEscape(body)}</failure>`,
      );
    else if (m.verdict === 'too-noisy') out.push(`      <skipped${attr({ message: `too noisy to say: ${m.reason}` })}/>`);
    else out.push(`      <system-out>${xmlEscape(`${m.verdict}: ${body}`)}</system-out>`);
    out.push('    </testcase>');
  }
  if (r.warnings.length > 0) out.push(`    <system-err>${xmlEscape(r.warnings.map((w) => `WARNING: ${w}`).join('\n'))}</system-err>`);
  out.push('  </testsuite>', '</testsuites>');
  return out.join('\n') + '\n';
}
