/**
 * `compare --html`: the page, built from real fixture profiles (with wait
 * histograms added to their runs), has a chart per gated metric and the two
 * histograms, and loads nothing from the network; then it is opened in a
 * real headless browser (Debian's chromium, which scripts/setup.sh installs):
 * every chart is laid out with a size, and the screenshot is not blank (its
 * pixels differ from a blank page's and show both sides' colours).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare } from '../../src/commands/compare.js';
import { renderHtml, summedHistogram, writeHtmlReport } from '../../src/output/compare-html.js';
import type { Profile } from '../../src/record/profile.js';
import { SIDE_COLOURS } from '../../src/report/charts.js';
import { tuner } from '../helpers/cli.js';

const fixture = (n: string): string => decodeURIComponent(new URL(`../fixtures/profiles/${n}`, import.meta.url).pathname);
const dir = mkdtempSync(path.join(os.tmpdir(), 'tuner-html-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of a fixture whose runs carry log2 wait histograms centred on `slot`. */
function withHistograms(name: string, slot: number): string {
  const p = JSON.parse(readFileSync(fixture(name), 'utf8')) as Profile;
  p.runs.forEach((r, i) => {
    const h = (centre: number): number[] =>
      Array.from({ length: centre + 4 }, (_, k) => (Math.abs(k - centre) <= 2 ? 10 * (3 - Math.abs(k - centre)) + i : 0));
    r.details['sched.runq_hist_ns'] = h(slot);
    r.details['futex.wait_hist_ns'] = h(slot + 3);
  });
  const out = path.join(dir, name);
  writeFileSync(out, JSON.stringify(p));
  return out;
}

const BASE = withHistograms('mutex-base.json', 12);
const NEW = withHistograms('mutex-regressed.json', 20);
const result = () => compare({ base: BASE, new: NEW, threshold: 0.1, alpha: 0.05 });

describe('compare --html: the page', () => {
  it('a chart per gated metric with its verdict, both histograms, no network', async () => {
    const r = await result();
    const p = (f: string): Profile => JSON.parse(readFileSync(f, 'utf8')) as Profile;
    const html = await renderHtml(r, { base: p(BASE), new: p(NEW) });
    const charts = [...html.matchAll(/<figure class="chart metric-chart" data-metric="([^"]+)" data-verdict="([^"]+)"><svg/g)];
    expect(charts.map((m) => m[1])).toEqual(
      r.metrics
        .filter((m) => m.gated)
        .map((m) => m.metric)
        .sort((a, b) => charts.findIndex((c) => c[1] === a) - charts.findIndex((c) => c[1] === b)),
    );
    expect(charts.map((m) => m[1]).sort()).toEqual([...r.gated].sort());
    for (const [, metric, verdict] of charts) expect(verdict).toBe(r.metrics.find((m) => m.metric === metric)!.verdict);
    expect(html.match(/<figure class="chart histogram-chart" data-histogram="[^"]+"><svg/g)).toHaveLength(2);
    // Self-contained: no script, stylesheet, image or font from anywhere.
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(html.replace(/xmlns(:xlink)?="http:\/\/www\.w3\.org\/[^"]*"/g, '')).not.toMatch(/https?:\/\//);
  });

  it('profiles without histograms: the page says so instead of drawing empty charts', async () => {
    const r = await compare({ base: fixture('mutex-base.json'), new: fixture('mutex-same.json'), threshold: 0.1, alpha: 0.05 });
    const p = (f: string): Profile => JSON.parse(readFileSync(f, 'utf8')) as Profile;
    const html = await renderHtml(r, { base: p(fixture('mutex-base.json')), new: p(fixture('mutex-same.json')) });
    expect(html.match(/not in these profiles/g)).toHaveLength(2);
  });

  it('sums the histograms over the runs', () => {
    const p = JSON.parse(readFileSync(BASE, 'utf8')) as Profile;
    const sum = summedHistogram(p, 'sched.runq_hist_ns');
    expect(sum[12]).toBe(p.runs.reduce((s, r) => s + (r.details['sched.runq_hist_ns'] as number[])[12]!, 0));
    expect(summedHistogram(p, 'nope')).toEqual([]);
  });

  it('the CLI writes it next to the usual output; an unwritable path is exit 2 naming --html', async () => {
    const out = path.join(dir, 'cli.html');
    const c = await tuner(['compare', BASE, NEW, '--html', out]);
    expect(c.exitCode, String(c.stderr)).toBe(1);
    expect(String(c.stdout)).toMatch(/regressed beyond 10%/);
    expect(readFileSync(out, 'utf8')).toMatch(/^<!DOCTYPE html>/);
    const md = await tuner(['compare', BASE, NEW, '--markdown', '--html', path.join(dir, 'md.html')]);
    expect(md.exitCode).toBe(1);
    expect(String(md.stdout)).toMatch(/^<!-- tuner-compare -->\n### ❌ tuner compare: /);
    expect(String(md.stdout)).toMatch(/\| 🔴 \| `sched.runq_wait_ns` \| gated \|.*\*\*regressed\*\* \|/);
    const bad = await tuner(['compare', BASE, NEW, '--html', path.join(dir, 'no', 'such', 'dir', 'r.html')]);
    expect(bad.exitCode).toBe(2);
    expect(String(bad.stderr)).toMatch(/--html .*r\.html: cannot write the report: ENOENT/);
  });
});

const CHROMIUM = '/usr/bin/chromium';

describe('compare --html in a real headless browser', { timeout: 60_000 }, () => {
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function shot(
    file: string,
  ): Promise<{ png: PNG; sizes: Array<{ metric: string | null; width: number; height: number; marks: number }>; outcome: string }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      const requests: string[] = [];
      page.on('request', (req) => void (req.url().startsWith('file:') || requests.push(req.url())));
      await page.goto(`file://${file}`);
      const sizes = await page.$$eval('figure.metric-chart', (figs) =>
        figs.map((f) => {
          const svg = f.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          return {
            metric: f.getAttribute('data-metric'),
            width: box?.width ?? 0,
            height: box?.height ?? 0,
            marks: svg?.querySelectorAll('path, line, rect').length ?? 0,
          };
        }),
      );
      const outcome = await page.evaluate(() => document.querySelector('#outcome')?.textContent ?? '');
      const png = PNG.sync.read(await page.screenshot({ fullPage: true }));
      expect(requests).toEqual([]);
      return { png, sizes, outcome };
    } finally {
      await page.close();
    }
  }

  /** Share of pixels that differ from white, and whether a colour (within a tolerance) appears at all. */
  function pixels(png: PNG, colours: string[]): { inked: number; found: boolean[] } {
    const want = colours.map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)));
    const found = want.map(() => false);
    let inked = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const [r, g, b] = [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
      if (r < 245 || g < 245 || b < 245) inked++;
      want.forEach(([wr, wg, wb], k) => {
        if (Math.abs(r - wr!) + Math.abs(g - wg!) + Math.abs(b - wb!) < 30) found[k] = true;
      });
    }
    return { inked: inked / (png.data.length / 4), found };
  }

  it('renders every gated metric chart with a size, and the screenshot is not blank', async () => {
    const r = await result();
    const file = path.join(dir, 'report.html');
    await writeHtmlReport(r, file);
    const { png, sizes, outcome } = await shot(file);
    expect(sizes.map((s) => s.metric).sort()).toEqual([...r.gated].sort());
    for (const s of sizes) {
      expect(s.width).toBeGreaterThan(200);
      expect(s.height).toBeGreaterThan(150);
      expect(s.marks).toBeGreaterThan(10);
    }
    expect(outcome).toMatch(/regressed beyond 10%.*exit status 1/);
    const report = pixels(png, [SIDE_COLOURS.BASE, SIDE_COLOURS.NEW]);
    writeFileSync(path.join(dir, 'blank.html'), '<!DOCTYPE html><html><body></body></html>');
    const blank = pixels((await shot(path.join(dir, 'blank.html'))).png, [SIDE_COLOURS.BASE]);
    expect(blank.inked).toBeLessThan(0.001);
    expect(report.inked).toBeGreaterThan(0.03);
    expect(report.found).toEqual([true, true]);
    if (process.env.TUNER_KEEP_SCREENSHOT) writeFileSync(process.env.TUNER_KEEP_SCREENSHOT, PNG.sync.write(png));
  });
});
