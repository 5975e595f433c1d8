/**
 * Many metrics are tested at once, so one comparison could flag some metric
 * by chance far more often than alpha. These keep the chance of any false
 * flag in one comparison (the family-wise error rate) at most alpha.
 */

/**
 * Tarone's rule for discrete tests: a test whose smallest attainable p-value
 * is above alpha/K can never be significant, so it is left out of a family of
 * K. K is the smallest number with at most K tests attaining alpha/K. Metrics
 * whose values tie in every run (zeros, constant counts) then cost nothing.
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
 * default); a test outside the family gets 1. Reject where adjusted < alpha.
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
