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

export interface Posterior {
  mean: number;
  sd: number;
  n: number;
}

/**
 * The posterior of a level's mean score. A visited level: its sample mean,
 * with standard error max(spread, noise)/sqrt(n). An unvisited one: the mean
 * of its nearest visited neighbour and a wide spread (3 x noise), so it is
 * tried only when its neighbourhood looks promising.
 */
export function posterior(arms: Arms, level: number, noise: number): Posterior {
  const a = arms.get(level);
  const spread = Math.max(pooledSd(arms) ?? noise, noise, 1e-12);
  if (a && a.n > 0) return { mean: a.mean, sd: spread / Math.sqrt(a.n), n: a.n };
  let near: Arm | undefined;
  let dist = Infinity;
  for (const [l, x] of arms) {
    if (x.n > 0 && Math.abs(l - level) < dist) {
      dist = Math.abs(l - level);
      near = x;
    }
  }
  return { mean: near?.mean ?? 0, sd: 3 * spread, n: 0 };
}

/** The visited level with the highest mean score (ties: the one closest to the original). */
export function bestLevel(arms: Arms): number | undefined {
  let best: number | undefined;
  for (const [l, a] of [...arms].sort((x, y) => x[0] - y[0]))
    if (a.n > 0 && (best === undefined || a.mean > arms.get(best)!.mean)) best = l;
  return best;
}

export interface ChoiceOptions {
  noise: number;
  /** Subtracted from every level other than the current one (in score units). */
  changeCost: number;
  random: () => number;
  /** Levels not to move to (at a bound, refused, violated a constraint). */
  blocked: ReadonlySet<number>;
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
 * One decision among the current level and its two neighbours. Exploration
 * stays next to the best-known level: a neighbour is a candidate only when
 * it is within one step of the best level, or on the way to it.
 */
export function choose(arms: Arms, current: number, o: ChoiceOptions): Choice {
  const best = bestLevel(arms);
  const near = (l: number): boolean =>
    best === undefined || Math.abs(l - best) <= 1 || Math.sign(l - current) === Math.sign(best - current);
  const candidates = [current - 1, current, current + 1].filter((l) => l === current || (l >= 0 && !o.blocked.has(l) && near(l)));
  const cur = posterior(arms, current, o.noise);
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
