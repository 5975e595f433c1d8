/**
 * The charts of compare's HTML report, as Vega-Lite specifications rendered
 * to SVG in node (vega's headless view): nothing is drawn by hand and the
 * page needs no script or network to show them.
 */
import type { MetricComparison } from '../compare/analyse.js';
import type { MetricUnit } from '../record/metrics.js';

/** Colours of the two sides, and of verdicts (shared with the page's table). */
export const SIDE_COLOURS = { BASE: '#4c78a8', NEW: '#f58518' } as const;
export const VERDICT_COLOURS: Record<string, string> = {
  regressed: '#c0392b',
  'needs-more-runs': '#d35400',
  'too-noisy': '#b7950b',
  improved: '#1e8449',
  unchanged: '#7f8c8d',
};

/** Values in a unit people read on an axis: ns -> ms, µs stay µs. */
function axisScale(unit: MetricUnit, values: readonly number[]): { factor: number; label: string } {
  const max = Math.max(0, ...values);
  if (unit === 'ns')
    return max >= 1e9 ? { factor: 1e-9, label: 's' } : max >= 1e6 ? { factor: 1e-6, label: 'ms' } : { factor: 1e-3, label: 'µs' };
  if (unit === 'us') return max >= 1e3 ? { factor: 1e-3, label: 'ms' } : { factor: 1, label: 'µs' };
  if (unit === 'bytes') return { factor: 1 / 2 ** 20, label: 'MiB' };
  return { factor: 1, label: 'count' };
}

/**
 * One metric: every run of both sides as a point, each side's median as a
 * tick, the confidence interval of the change drawn on NEW (BASE's median
 * times the interval of the ratio), and the threshold as a dashed line.
 */
export function metricSpec(m: MetricComparison, unit: MetricUnit, threshold: number, label: string): object {
  const all = [...m.base.values, ...m.new.values];
  const { factor, label: axis } = axisScale(unit, all);
  const points = [
    ...m.base.values.map((v, i) => ({ side: 'BASE', run: i + 1, value: v * factor })),
    ...m.new.values.map((v, i) => ({ side: 'NEW', run: i + 1, value: v * factor })),
  ];
  const medians = [
    ...(m.base.median === null ? [] : [{ side: 'BASE', value: m.base.median * factor, what: 'median' }]),
    ...(m.new.median === null ? [] : [{ side: 'NEW', value: m.new.median * factor, what: 'median' }]),
  ];
  const finite = (x: number | undefined): boolean => x !== undefined && Number.isFinite(x);
  const ci =
    m.ci && m.base.median !== null && finite(m.ci.ratio.low) && finite(m.ci.ratio.high)
      ? [{ side: 'NEW', low: m.base.median * m.ci.ratio.low * factor, high: m.base.median * m.ci.ratio.high * factor }]
      : [];
  const limit =
    m.base.median !== null && m.base.median > 0
      ? [{ value: m.base.median * (1 + threshold) * factor, what: `BASE median +${Math.round(threshold * 100)}%` }]
      : [];
  // A change of 10x or more squashes one side to the axis on a linear scale: log (symlog with zeros) instead.
  const positive = all.filter((v) => v > 0);
  const wide = positive.length > 0 && Math.max(...positive) / Math.min(...positive) >= 10;
  const yScale = wide ? (positive.length === all.length ? { type: 'log' } : { type: 'symlog' }) : { zero: false };
  const x = { field: 'side', type: 'nominal', title: null, sort: ['BASE', 'NEW'], axis: { labelAngle: 0 } };
  const colour = {
    field: 'side',
    type: 'nominal',
    scale: { domain: ['BASE', 'NEW'], range: [SIDE_COLOURS.BASE, SIDE_COLOURS.NEW] },
    legend: null,
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 260,
    height: 200,
    title: { text: `${m.metric}: ${m.verdict}`, subtitle: label, color: VERDICT_COLOURS[m.verdict] ?? '#333', subtitleColor: '#555' },
    layer: [
      {
        data: { values: limit },
        mark: { type: 'rule', strokeDash: [6, 4], color: '#888' },
        encoding: { y: { field: 'value', type: 'quantitative' } },
      },
      {
        data: { values: ci },
        mark: { type: 'rule', strokeWidth: 3, color: VERDICT_COLOURS[m.verdict] ?? '#333', opacity: 0.6 },
        encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 60, opacity: 0.8 },
        encoding: {
          x,
          xOffset: { field: 'run', type: 'nominal', legend: null },
          y: { field: 'value', type: 'quantitative', title: wide ? `${axis} (log scale)` : axis, scale: yScale },
          color: colour,
        },
      },
      {
        data: { values: medians },
        mark: { type: 'tick', thickness: 3, size: 70 },
        encoding: { x, y: { field: 'value', type: 'quantitative' }, color: colour },
      },
    ],
    resolve: { scale: { y: 'shared' } },
    config: { view: { stroke: '#ddd' }, font: 'sans-serif' },
  };
}

export interface HistSide {
  side: 'BASE' | 'NEW';
  /** Waits per log2 slot of ns, summed over the runs. */
  slots: number[];
}

/** Log2 histograms of both sides overlaid, as shares of each side's waits (the counts differ). */
export function histogramSpec(title: string, sides: readonly HistSide[]): object {
  // Every slot from the first to the last that holds a wait on either side, empty ones included (the axis stays log2).
  const used = sides.flatMap(({ slots }) => slots.flatMap((c, k) => (c > 0 ? [k] : [])));
  const first = Math.min(...used);
  const last = Math.max(...used);
  const values = sides.flatMap(({ side, slots }) => {
    const total = slots.reduce((s, v) => s + v, 0);
    return Array.from({ length: last - first + 1 }, (_, i) => {
      const count = slots[first + i] ?? 0;
      return { side, slot: first + i, share: total ? count / total : 0, count };
    });
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 560,
    height: 200,
    title,
    data: { values },
    mark: { type: 'bar', opacity: 0.55, binSpacing: 0 },
    encoding: {
      x: {
        field: 'slot',
        type: 'ordinal',
        title: 'wait, from (log2 slots)',
        axis: {
          labelExpr:
            "datum.value == 0 ? '0' : pow(2, datum.value) >= 1e9 ? format(pow(2, datum.value) / 1e9, '.2~') + ' s' : pow(2, datum.value) >= 1e6 ? format(pow(2, datum.value) / 1e6, '.3~') + ' ms' : pow(2, datum.value) >= 1e3 ? format(pow(2, datum.value) / 1e3, '.3~') + ' µs' : pow(2, datum.value) + ' ns'",
          labelAngle: -45,
        },
      },
      y: { field: 'share', type: 'quantitative', title: 'share of waits', axis: { format: '%' }, stack: null },
      color: {
        field: 'side',
        type: 'nominal',
        scale: { domain: ['BASE', 'NEW'], range: [SIDE_COLOURS.BASE, SIDE_COLOURS.NEW] },
        title: null,
      },
      tooltip: [{ field: 'side' }, { field: 'count' }, { field: 'share', format: '.1%' }],
    },
    config: { font: 'sans-serif' },
  };
}

/** Render a Vega-Lite specification to an SVG string, headless. */
export async function toSvg(spec: object): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
