/**
 * The learner's model: one arm per knob level (steps away from the original
 * value), each the running mean and variance of the objective's score
 * (higher is better) over the windows spent at that level. Choosing among
 * the levels next to the current one is Thompson sampling with Gaussian
 * posteriors: a draw from each candidate's posterior, minus a cost for
 * changing, and the highest draw wins; the greedy choice (highest mean) is
 * "exploit", any other "explore". Pure functions of the model and a seeded
 * random source, so a replay decides the same way every time.
 */
import { normalDraw } from '../stats/rng.js';

export interface Arm {
  n: number;
  mean: number;
  /** Sum of squared deviations (Welford). */
  m2: number;
  /** Windows at this level that violated a constraint. */
  violations: number;
}

export type Arms = Map<number, Arm>;

/** Welford's update; returns the arm. */
export function addSample(arms: Arms, level: number, score: number, violated: boolean): Arm {
  const a = arms.get(level) ?? { n: 0, mean: 0, m2: 0, violations: 0 };
  a.n++;
  const d = score - a.mean;
  a.mean += d / a.n;
  a.m2 += d * (score - a.mean);
  if (violated) a.violations++;
  arms.set(level, a);
  return a;
}

/** Spread of the score within levels (pooled standard deviation), or undefined before two samples at one level. */
export function pooledSd(arms: Arms): number | undefined {
  let ss = 0;
  let df = 0;
  for (const a of arms.values()) {
    if (a.n < 2) continue;
    ss += a.m2;
    df += a.n - 1;
  }
  return df > 0 ? Math.sqrt(ss / df) : undefined;
}

/** Pseudo-windows the prior spread counts for in a level's noise estimate. */
const PRIOR_WINDOWS = 2;

/**
 * One window's spread at a level, estimated from the data at that level:
 * its sum of squares, plus PRIOR_WINDOWS pseudo-windows at the prior spread
 * (the pooled spread of all levels, never below the recipe's noise), so a
 * level seen twice is not taken for noiseless and a level seen often
 * speaks for itself (levels differ: a starved cgroup's wait share is
 * steady near 1 and scattered near its best).
 */
export function levelSd(arms: Arms, level: number, noise: number): number {
  const prior = Math.max(pooledSd(arms) ?? noise, noise, 1e-12);
  const a = arms.get(level);
  if (!a || a.n < 2) return prior;
  return Math.max(Math.sqrt((a.m2 + PRIOR_WINDOWS * prior * prior) / (a.n - 1 + PRIOR_WINDOWS)), noise, 1e-12);
}

export interface Posterior {
  mean: number;
  sd: number;
  n: number;
}

/**
 * The posterior of a level's mean score. A visited level: its sample mean,
 * with standard error levelSd/sqrt(n). An unvisited one: the mean of its
 * nearest visited neighbour and a wide spread (3 x that neighbour's
 * window spread), so it is tried only when its neighbourhood looks
 * promising.
 */
export function posterior(arms: Arms, level: number, noise: number): Posterior {
  const a = arms.get(level);
  if (a && a.n > 0) return { mean: a.mean, sd: levelSd(arms, level, noise) / Math.sqrt(a.n), n: a.n };
  let near: number | undefined;
  let dist = Infinity;
  for (const [l, x] of arms) {
    if (x.n > 0 && Math.abs(l - level) < dist) {
      dist = Math.abs(l - level);
      near = l;
    }
  }
  return {
    mean: near !== undefined ? arms.get(near)!.mean : 0,
    sd: 3 * (near !== undefined ? levelSd(arms, near, noise) : Math.max(noise, 1e-12)),
    n: 0,
  };
}

/**
 * The level with the highest mean score among those measured for at least
 * `minN` windows (ties: the one closest to the original): a level seen for
 * a window or two (the rules' baseline before the first step, a level left
 * at once) is not known well enough to head back to.
 */
export function bestLevel(arms: Arms, minN = 1): number | undefined {
  let best: number | undefined;
  for (const [l, a] of [...arms].sort((x, y) => x[0] - y[0]))
    if (a.n >= Math.max(1, minN) && (best === undefined || a.mean > arms.get(best)!.mean)) best = l;
  return best;
}

/**
 * Level `a` is known to be better than level `b`: measured for at least
 * `minN` windows, and its mean higher by more than the noise and by more
 * than twice the standard error of the difference.
 */
export function clearlyBetter(arms: Arms, a: number, b: number, noise: number, minN = 1): boolean {
  if ((arms.get(a)?.n ?? 0) < Math.max(1, minN)) return false;
  const pa = posterior(arms, a, noise);
  const pb = posterior(arms, b, noise);
  return pa.mean - pb.mean > Math.max(noise, 2 * Math.hypot(pa.sd, pb.sd));
}

export interface ChoiceOptions {
  noise: number;
  /** Subtracted from every level other than the current one (in score units). */
  changeCost: number;
  random: () => number;
  /** Levels not to move to (at a bound, refused, violated a constraint). */
  blocked: ReadonlySet<number>;
  /** Windows a level needs before it can be the best-known one (default 1). */
  minSamples?: number;
}

export interface Choice {
  level: number;
  mode: 'explore' | 'exploit';
  /** Posterior mean of the chosen level minus the current one's. */
  expectedGain: number;
  /** P(the chosen level's mean > the current one's) under the posteriors; for staying, P(no neighbour is better). */
  confidence: number;
  best: number | undefined;
  candidates: number[];
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 through erf). */
export function phi(z: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

/**
 * The current level is far from the best-known one: worse by more than the
 * noise and by more than twice the standard error of the difference. Then
 * the learner goes back toward the best level and explores nothing.
 */
export function farFromBest(arms: Arms, current: number, noise: number, minN = 1): boolean {
  const best = bestLevel(arms, minN);
  if (best === undefined || best === current) return false;
  return clearlyBetter(arms, best, current, noise, minN);
}

/**
 * One decision among the current level and its two neighbours. Exploration
 * stays next to the best-known level: a neighbour is a candidate only when
 * it is within one step of the best level, or on the way to it; and when
 * the current level is far from the best-known one (farFromBest), the only
 * candidate is the step toward it.
 */
export function choose(arms: Arms, current: number, o: ChoiceOptions): Choice {
  const best = bestLevel(arms, o.minSamples);
  const far = farFromBest(arms, current, o.noise, o.minSamples);
  const near = (l: number): boolean =>
    best === undefined ||
    (far ? l === current + Math.sign(best - current) : Math.abs(l - best) <= 1 || Math.sign(l - current) === Math.sign(best - current));
  const candidates = [current - 1, current, current + 1].filter((l) => l === current || (l >= 0 && !o.blocked.has(l) && near(l)));
  const cur = posterior(arms, current, o.noise);
  if (far && candidates.length > 1) {
    const to = candidates.find((l) => l !== current)!;
    const p = posterior(arms, to, o.noise);
    return {
      level: to,
      mode: 'exploit',
      expectedGain: p.mean - cur.mean,
      confidence: phi((p.mean - cur.mean) / Math.hypot(p.sd, cur.sd)),
      best,
      candidates,
    };
  }
  let pick = current;
  let top = -Infinity;
  let greedy = current;
  let greedyTop = -Infinity;
  for (const l of candidates) {
    const p = posterior(arms, l, o.noise);
    const cost = l === current ? 0 : o.changeCost;
    const draw = p.mean + p.sd * normalDraw(o.random) - cost;
    if (draw > top) [top, pick] = [draw, l];
    if (p.mean - cost > greedyTop) [greedyTop, greedy] = [p.mean - cost, l];
  }
  const chosen = posterior(arms, pick, o.noise);
  let confidence: number;
  if (pick !== current) confidence = phi((chosen.mean - o.changeCost - cur.mean) / Math.hypot(chosen.sd, cur.sd));
  else {
    confidence = 1;
    for (const l of candidates) {
      if (l === current) continue;
      const p = posterior(arms, l, o.noise);
      confidence *= phi((cur.mean + o.changeCost - p.mean) / Math.hypot(p.sd, cur.sd));
    }
  }
  return { level: pick, mode: pick === greedy ? 'exploit' : 'explore', expectedGain: chosen.mean - cur.mean, confidence, best, candidates };
}
