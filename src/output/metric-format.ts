/** Metric values and changes as people read them, by unit. */
import type { MetricComparison } from '../compare/analyse.js';
import type { MetricUnit } from '../record/metrics.js';
import { fmtNs, fmtUs } from './format.js';

export function fmtValue(v: number | null | undefined, unit: MetricUnit): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  switch (unit) {
    case 'ns':
      return fmtNs(v);
    case 'us':
      return fmtUs(v);
    case 'bytes':
      return v >= 1 << 30
        ? `${(v / 2 ** 30).toFixed(2)} GiB`
        : v >= 1 << 20
          ? `${(v / 2 ** 20).toFixed(1)} MiB`
          : v >= 1024
            ? `${(v / 1024).toFixed(1)} KiB`
            : `${v} B`;
    case 'count':
      return Math.abs(v) >= 1e6
        ? `${(v / 1e6).toFixed(2)}M`
        : Math.abs(v) >= 1e4
          ? `${(v / 1e3).toFixed(1)}k`
          : String(Math.round(v * 10) / 10);
  }
}

/** A ratio as a signed percentage: 1.253 -> "+25.3%"; Infinity -> "+inf (from 0)". */
export function fmtChange(ratio: number | null): string {
  if (ratio === null || Number.isNaN(ratio)) return '-';
  if (ratio === Infinity) return '+inf (from 0)';
  const pct = (ratio - 1) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/**
 * A row's change; for a row decided on its change at equal load (its
 * load-adjusted test ran, and the medians alone are not beyond the threshold
 * that way), that change beside it: "-54.9% (+108.1% at equal load)".
 */
export function fmtRowChange(m: Pick<MetricComparison, 'ratio' | 'direction' | 'test'>, threshold: number): string {
  const load = m.test?.load;
  const raw = fmtChange(m.ratio);
  if (m.direction === null || !load || m.ratio === null) return raw;
  const rawBeyond = m.direction === 'worse' ? m.ratio > 1 + threshold : m.ratio < 1 / (1 + threshold);
  return rawBeyond ? raw : `${raw} (${fmtChange(load.ratio)} at equal load)`;
}

/** The adjusted p-value of the row's claim: the way it was decided, else the way its median moved. */
export function rowP(m: Pick<MetricComparison, 'ratio' | 'direction' | 'p_regressed_adjusted' | 'p_improved_adjusted'>): number {
  const better = m.direction === 'better' || (m.direction === null && m.ratio !== null && m.ratio < 1);
  return better ? m.p_improved_adjusted : m.p_regressed_adjusted;
}

/** A confidence interval of a ratio as a percentage range: "-2.1% .. +4.0%". */
export function fmtInterval(ci: { low: number; high: number } | null | undefined): string {
  if (!ci) return '-';
  return `${fmtChange(ci.low)} .. ${fmtChange(ci.high)}`;
}

export function fmtP(p: number | null | undefined): string {
  if (p === null || p === undefined) return '-';
  if (p >= 0.9995) return '1';
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

/** The coefficient of variation of values, in percent (spread of a metric across runs). */
export function cvPercent(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  if (mean === 0) return null;
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
  return (100 * sd) / Math.abs(mean);
}
