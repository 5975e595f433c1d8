/**
 * The difference between two samples adjusted for a covariate measured in
 * the same runs (analysis of covariance: v = a + d * group + b * u, one
 * common slope, least squares), with Student's t-test of d one-sided in both
 * directions. compare uses it with the share of the machine busy with other
 * work during each run: the part of a wait that the neighbours' load
 * explains, run by run, is taken out before the sides are compared.
 */
import jstat from 'jstat';

const { studentt } = jstat.jStat;

export interface AdjustedTest {
  /** Adjusted mean(y) - mean(x). */
  diff: number;
  se: number;
  t: number;
  df: number;
  /** The common slope of the values on the covariate. */
  slope: number;
  pGreater: number;
  pLess: number;
}

const mean = (v: readonly number[]): number => v.reduce((s, x) => s + x, 0) / v.length;

/**
 * Test whether y is shifted against x once the covariate (ux for x, uy for
 * y, run by run) is accounted for. Null when it cannot be fitted: fewer than
 * 4 values in all, or a covariate that does not vary within the samples.
 */
export function adjustedTest(
  x: readonly number[],
  ux: readonly number[],
  y: readonly number[],
  uy: readonly number[],
): AdjustedTest | null {
  if (x.length !== ux.length || y.length !== uy.length) throw new RangeError('adjustedTest: one covariate value per value');
  const n = x.length + y.length;
  if (x.length < 2 || y.length < 2 || n < 5) return null;
  const [mx, my, mux, muy] = [mean(x), mean(y), mean(ux), mean(uy)];
  let suu = 0;
  let suv = 0;
  x.forEach((v, i) => {
    suu += (ux[i]! - mux) ** 2;
    suv += (ux[i]! - mux) * (v - mx);
  });
  y.forEach((v, i) => {
    suu += (uy[i]! - muy) ** 2;
    suv += (uy[i]! - muy) * (v - my);
  });
  if (!(suu > 0)) return null;
  const slope = suv / suu;
  let ssr = 0;
  x.forEach((v, i) => (ssr += (v - mx - slope * (ux[i]! - mux)) ** 2));
  y.forEach((v, i) => (ssr += (v - my - slope * (uy[i]! - muy)) ** 2));
  const df = n - 3;
  const s2 = ssr / df;
  const diff = my - mx - slope * (muy - mux);
  const se = Math.sqrt(s2 * (1 / x.length + 1 / y.length + (muy - mux) ** 2 / suu));
  if (se === 0) {
    if (diff === 0) return { diff, se, t: 0, df, slope, pGreater: 1, pLess: 1 };
    return { diff, se, t: diff > 0 ? Infinity : -Infinity, df, slope, pGreater: diff > 0 ? 0 : 1, pLess: diff < 0 ? 0 : 1 };
  }
  const t = diff / se;
  const below = studentt.cdf(t, df);
  return { diff, se, t, df, slope, pGreater: 1 - below, pLess: below };
}
