/**
 * Many metrics are tested at once, so one comparison could flag some metric
 * by chance far more often than alpha. Benjamini-Hochberg keeps the expected
 * share of false flags among all flags (the false discovery rate) at most
 * alpha; when nothing changed at all, any flag is false, so it is then also
 * the chance of any false flag in the comparison. Unlike Holm's family-wise
 * control, its threshold grows with the number of real changes (k-th
 * smallest p against k * alpha / m), which matters when a change moves
 * several metrics at once, as real ones do.
 */

/**
 * Benjamini-Hochberg adjusted p-values (step-up) over the eligible tests (all
 * by default); a test outside the family gets 1. Reject where adjusted < alpha.
 * Valid under independence and positive dependence of the tests (metrics of
 * one run rise and fall together, a positive dependence).
 */
export function bhAdjust(pValues: readonly number[], eligible: readonly boolean[] = pValues.map(() => true)): number[] {
  const family = pValues.map((p, i) => ({ p, i })).filter(({ i }) => eligible[i]);
  family.sort((a, b) => a.p - b.p);
  const m = family.length;
  const out = pValues.map(() => 1);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const { p, i } = family[rank - 1]!;
    running = Math.min(running, (m / rank) * p);
    out[i] = Math.min(1, running);
  }
  return out;
}

/**
 * Tarone's rule for discrete tests: a test whose smallest attainable p-value
 * is above alpha/K can never be significant, so it is left out of a family of
 * K. K is the smallest number with at most K tests attaining alpha/K.
 * (Family-wise control, kept for the simulation that compares designs.)
 */
export function taroneEligible(minP: readonly number[], alpha: number): boolean[] {
  const m = minP.length;
  for (let k = 1; k <= m; k++) {
    const eligible = minP.map((p) => p <= alpha / k);
    if (eligible.filter(Boolean).length <= k) return eligible;
  }
  return minP.map(() => true);
}

/**
 * Holm's step-down adjusted p-values over the eligible tests (all by
 * default): the family-wise error rate at most alpha. A test outside the
 * family gets 1. (Kept for the simulation that compares designs.)
 */
export function holmAdjust(pValues: readonly number[], eligible: readonly boolean[] = pValues.map(() => true)): number[] {
  const family = pValues.map((p, i) => ({ p, i })).filter(({ i }) => eligible[i]);
  family.sort((a, b) => a.p - b.p);
  const out = pValues.map(() => 1);
  let running = 0;
  family.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (family.length - rank) * p));
    out[i] = running;
  });
  return out;
}
