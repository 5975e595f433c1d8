/** The four formats of one comparison (real fixture profiles): same verdicts, each fit for its reader. */
import { describe, expect, it } from 'vitest';
import { compare } from '../../src/commands/compare.js';
import { renderCompare, headline } from '../../src/output/compare-view.js';
import { MARKDOWN_MARKER, renderMarkdown } from '../../src/output/compare-markdown.js';
import { renderJunit, xmlEscape } from '../../src/output/compare-junit.js';
import { toJson } from '../../src/output/json.js';
import { fmtChange, fmtInterval, fmtRowChange, fmtValue, rowP } from '../../src/output/metric-format.js';

const fixture = (n: string): string => decodeURIComponent(new URL(`../fixtures/profiles/${n}`, import.meta.url).pathname);
const result = () => compare({ base: fixture('mutex-base.json'), new: fixture('mutex-regressed.json'), threshold: 0.1, alpha: 0.05 });

/** Tags open and close in order (enough to catch a broken document without an XML parser). */
function balanced(xml: string): boolean {
  const stack: string[] = [];
  for (const m of xml.replace(/<\?xml[^>]*\?>/, '').matchAll(/<(\/?)([A-Za-z-]+)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self) continue;
    if (close) {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  return stack.length === 0;
}

describe('compare output', () => {
  it('table: every metric, worst first, and the headline', async () => {
    const r = await result();
    const text = renderCompare(r);
    for (const m of r.metrics) expect(text).toContain(m.metric);
    expect(text.indexOf(r.regressed[0]!)).toBeLessThan(text.indexOf('io.wait_ns'));
    expect(text).toContain(headline(r));
    expect(headline(r)).toMatch(/^\d+ metrics? regressed beyond 10% \(alpha 0.05\): /);
  });

  it('markdown: marker, outcome, warnings as alerts, one row per metric', async () => {
    const r = await result();
    const md = renderMarkdown(r);
    const lines = md.split('\n');
    expect(lines[0]).toBe(MARKDOWN_MARKER);
    expect(lines[1]).toMatch(/^### ❌ tuner compare: \d+ metrics? regressed/);
    expect(md).toContain('> [!WARNING]\n> BASE and NEW ran different commands');
    const rows = lines.filter((l) => /^\| (🔴|🟠|🟡|🟢|⚪) \|/.test(l));
    expect(rows).toHaveLength(r.metrics.length);
    expect(rows.filter((l) => l.includes('**regressed**'))).toHaveLength(r.regressed.length);
    expect(rows.filter((l) => l.includes('| gated |'))).toHaveLength(r.gated.length);
    expect(rows[0]).toMatch(/^\| 🔴 \|.*\| gated \|/);
    // Every row has the 9 columns of the header.
    const cols = (l: string): number => l.replace(/\\\|/g, '').split('|').length - 2;
    for (const row of rows) expect(cols(row)).toBe(9);
  });

  it('JUnit: counts, a failure per regression, skipped for too noisy, warnings in system-err', async () => {
    const r = await result();
    const xml = renderJunit(r, new Date('2026-01-01T00:00:00Z'));
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="tuner compare"')).toBe(true);
    expect(balanced(xml)).toBe(true);
    const noisy = r.metrics.filter((m) => m.verdict === 'too-noisy').length;
    expect(xml).toContain(`tests="${r.metrics.length}" failures="${r.failing.length}" errors="0" skipped="${noisy}"`);
    expect(xml.match(/<testcase /g)).toHaveLength(r.metrics.length);
    expect(xml.match(/<failure /g)).toHaveLength(r.failing.length);
    expect((xml.match(/<skipped /g) ?? []).length).toBe(noisy);
    expect(xml).toMatch(/<system-err>WARNING: BASE and NEW ran different commands/);
    expect(xml).toContain('<property name="threshold" value="0.1"/>');
  });

  it('JUnit escapes what XML cannot hold', () => {
    expect(xmlEscape(`a<b & "c" 'd'>\u0001`)).toBe('a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
  });

  it('JSON: plain numbers; a ratio from zero becomes null (JSON has no Infinity)', async () => {
    const r = await result();
    const back = JSON.parse(toJson(r));
    expect(back.exit_code).toBe(1);
    expect(back.metrics).toHaveLength(r.metrics.length);
    const fromZero = r.metrics.find((m) => m.ratio === Infinity);
    if (fromZero) expect(back.metrics.find((m: { metric: string }) => m.metric === fromZero.metric).ratio).toBeNull();
  });
});

describe('metric formats', () => {
  it.each([
    [1_500_000, 'ns', '1.5 ms'],
    [250, 'us', '250 us'],
    [12345, 'count', '12.3k'],
    [3 * 1024 * 1024, 'bytes', '3.0 MiB'],
    [null, 'ns', '-'],
  ] as const)('fmtValue(%s, %s) = %s', (v, u, want) => expect(fmtValue(v, u)).toBe(want));
  it('changes and intervals', () => {
    expect(fmtChange(1.253)).toBe('+25.3%');
    expect(fmtChange(0.9)).toBe('-10.0%');
    expect(fmtChange(Infinity)).toBe('+inf (from 0)');
    expect(fmtInterval({ low: 0.98, high: 1.04 })).toBe('-2.0% .. +4.0%');
  });
  it('a row decided at equal load shows that change and the p-value of the claim it was decided on', () => {
    const load = { p_regressed: 1e-4, p_improved: 1, slope: 0.06, ratio: 2.081 };
    const test = { load } as unknown as NonNullable<Parameters<typeof fmtRowChange>[0]['test']>;
    const row = { ratio: 0.45, direction: 'worse' as const, test, p_regressed_adjusted: 2.3e-4, p_improved_adjusted: 1 };
    expect(fmtRowChange(row, 0.1)).toBe('-55.0% (+108.1% at equal load)');
    // The medians beyond the threshold the same way: the change alone, as the reason gives it.
    expect(fmtRowChange({ ...row, ratio: 1.73 }, 0.1)).toBe('+73.0%');
    expect(rowP(row)).toBe(2.3e-4);
    // Undecided: the change alone, and the p-value of the way the median moved.
    const open = { ...row, direction: null };
    expect(fmtRowChange(open, 0.1)).toBe('-55.0%');
    expect(rowP(open)).toBe(1);
  });
});
