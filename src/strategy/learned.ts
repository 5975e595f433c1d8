/**
 * LearnedStrategy: a safe online learner over the action's bounded steps.
 * The recipe's rules pick the target and take the first step; from then on
 * the learner owns that target. Each window it scores the level the knob is
 * at (the objective, sign-adjusted so higher is better, minus a penalty when
 * a constraint is violated) and, once the level has been measured for a few
 * windows and the cooldown allows, chooses between one step further, one
 * step back and no change by Thompson sampling (arms.ts), a change costing
 * half the objective's noise. Like Microsoft SOL, it only proposes: the
 * engine's bounds, cooldown, scope and change budget still decide.
 *
 * Safety: it explores only next to the best-known level; while a constraint
 * is violated it never explores, and steps back when the violation came with
 * the step (its first window; a level that already held the constraint since
 * the step is being squeezed by outside load: it holds instead); a step whose first window
 * is worse than the previous level by more than the noise is rolled back;
 * it falls back to the rules when the data is stale, the objective has no
 * finite value, or the objective varies too much to tell levels apart.
 * What it learned is kept per host, recipe, action and target (store.ts),
 * so a restart starts warm.
 */
import { RollingWindow } from '../aggregate/window.js';
import { renderCondition } from '../detect/condition.js';
import type { Entity } from '../detect/paths.js';
import type { Recipe } from '../recipes/recipe.js';
import type { ScopeGuard } from '../scope/guard.js';
import { seededRandom } from '../stats/rng.js';
import { addSample, bestLevel, choose, clearlyBetter, farFromBest, levelSd, pooledSd, posterior, type Arms } from './arms.js';
import { HeuristicStrategy } from './heuristic.js';
import { round, violationText } from './outcome.js';
import { entryKey, type LearnedStore } from './store.js';
import type { Explanation, HeldTarget, Proposal, Strategy, Window } from './strategy.js';

export interface LearnedOptions {
  seed: number;
  /** Where to keep what was learned (none: cold start, nothing written, as in a replay). */
  store?: LearnedStore;
  /** Windows measured at a level before deciding to leave it (default 3). */
  minSamples?: number;
}

/** Counts for the log and the effect suite. */
export interface LearnedStats {
  windows: number;
  explores: number;
  /** Explorations taken before minSamples windows, on overwhelming evidence (LearnedStrategy.leap). */
  leaps: number;
  exploits: number;
  rollbacks: number;
  constraintSteps: number;
  /** Windows decided by the rules instead of the learner. */
  fallbackWindows: number;
  /**
   * Windows from the first step (or from the drift that started the search again) to the last change before the
   * level held (undefined: not yet, or it moved again since).
   */
  convergedAfter?: number;
  /** Times a convergence was withdrawn because the learner moved again. */
  unconverged: number;
  /** Times a converged level drifted (got worse by itself) and the search started again. */
  drifts: number;
  level: number;
  best?: number;
  /** Most consecutive windows with a constraint violated. */
  maxViolationRun: number;
}

const BLOCK_WINDOWS = 30;
const STABLE_WINDOWS = 5;
/**
 * The learner hands over to the rules when the objective's window-to-window
 * spread at one level exceeds this many times the recipe's noise: the
 * signal then is not the one the recipe describes (a level's own scatter
 * up to that is estimated from the data, arms.ts levelSd).
 */
const UNCERTAIN = 10;
/** A first window worse than the level before by this many times the noise (at least) is rolled back at once. */
const CLIFF = 5;
/** A level better than the one below it by this many times the noise (at least) in its first windows is left at once for the next. */
const LEAP = 5;

export class LearnedStrategy implements Strategy {
  readonly kind = 'learned';
  readonly rules: HeuristicStrategy;
  arms: Arms = new Map();
  private engaged: { action: number; target: Entity; key: string; original?: string; loaded?: string } | undefined;
  level = 0;
  private prevLevel: number | undefined;
  private lastWasRollback = false;
  /** The next change is a leap / the last change was one. */
  private leapt = false;
  private cameByLeap = false;
  private atLevel = 0;
  /** Windows at this level since the last change that held every constraint. */
  private cleanAtLevel = 0;
  private outsideNoted: number | undefined;
  private recent = new RollingWindow(10);
  private lastTs: number | undefined;
  private lastChange = -Infinity;
  private blocked = new Map<number, number>();
  private window = 0;
  private engagedAt = 0;
  /** The window the current search started: the first step, or the last drift of a converged level. */
  private searchFrom = 0;
  private lastChangeWindow = 0;
  private stable = 0;
  private rollbackTo: number | undefined;
  private fallback: string | undefined;
  private pending: string[] = [];
  private readonly random: () => number;
  private readonly noise: number;
  readonly stats: LearnedStats = {
    windows: 0,
    explores: 0,
    leaps: 0,
    unconverged: 0,
    drifts: 0,
    exploits: 0,
    rollbacks: 0,
    constraintSteps: 0,
    fallbackWindows: 0,
    level: 0,
    maxViolationRun: 0,
  };
  private violationRun = 0;
  private lastRecords: Window['records'] | undefined;

  constructor(
    private readonly recipe: Recipe,
    scope: ScopeGuard,
    private readonly o: LearnedOptions,
  ) {
    if (!recipe.objective) throw new Error(`recipe ${recipe.name}: the learned strategy needs an objective`);
    this.rules = new HeuristicStrategy(recipe, scope);
    this.random = seededRandom(o.seed);
    this.noise = Math.max(recipe.objective.noise, 1e-9);
  }

  private get minSamples(): number {
    return this.o.minSamples ?? 3;
  }

  observe(w: Window, held: readonly HeldTarget[]): Proposal[] {
    this.window++;
    this.leapt = false;
    this.lastRecords = w.records;
    const trigger = this.rules.update(w);
    const gap = this.lastTs === undefined ? 0 : w.ts - this.lastTs;
    this.lastTs = w.ts;
    const eng = this.engaged;
    if (!eng)
      return this.rules.decide(w, held, trigger).map((p) => this.tag(p, 'the rules take the first step; the learner starts from it'));
    this.stats.windows++;
    const h = held.find((x) => x.action === eng.action && x.entity.key === eng.target.key);
    if (h?.original !== undefined && eng.original === undefined) {
      eng.original = h.original;
      if (eng.loaded !== undefined && eng.loaded !== h.original) {
        this.pending.push(
          `learned: the saved model was learned from ${eng.loaded}, but the knob started at ${h.original} this time: starting cold`,
        );
        this.arms = new Map();
      }
    }
    if (!h && this.level > 0) {
      this.pending.push(`learned: ${eng.target.key} is no longer held (someone else changed it, or it is gone): the learner stops`);
      this.engaged = undefined;
      return [];
    }
    if (gap > 3 * this.recipe.intervalMs)
      return this.fallBack(`the data is stale (${(gap / 1000).toFixed(1)} s since the previous window)`, w, held, trigger);
    const v = this.rules.lastValue;
    if (v === undefined || !Number.isFinite(v)) return this.fallBack('the objective has no finite value this window', w, held, trigger);
    // The action's own condition to give back holds (the others' load is over): what is left to learn is how much
    // the change costs, which the objective does not see. The rules relax (and at the original value take no step);
    // these windows teach nothing about levels.
    if (this.rules.givesBack(eng.action, eng.target)) {
      const when = this.recipe.actions.find((x) => x.index === eng.action)!.relaxWhen!;
      return this.fallBack(`the action's condition to give back holds (${renderCondition(when)})`, w, held, trigger);
    }
    const viol = this.rules.lastViolations;
    this.violationRun = viol.length > 0 ? this.violationRun + 1 : 0;
    this.stats.maxViolationRun = Math.max(this.stats.maxViolationRun, this.violationRun);
    const first = this.atLevel === 0;
    // A violation at a level that held every constraint in the windows since the step is outside load, not the
    // level's doing: the window says nothing about the level (no sample), and nothing changes while it lasts.
    if (viol.length > 0 && !first && this.cleanAtLevel > 0) {
      if (this.outsideNoted !== this.lastChangeWindow) {
        this.outsideNoted = this.lastChangeWindow;
        this.pending.push(
          `learned: constraint violated (${violationText(viol)}) at level ${this.level}, which held it for ${this.cleanAtLevel} window${this.cleanAtLevel === 1 ? '' : 's'} since the step: outside load, not counted against the level; no change while it lasts`,
        );
      }
      return [];
    }
    if (viol.length === 0) this.cleanAtLevel++;
    const score = this.rules.outcome.score(v) - (viol.length > 0 ? 10 * this.noise : 0);
    addSample(this.arms, this.level, score, viol.length > 0);
    this.atLevel++;
    this.recent.push(score);
    const cooled = w.ts - this.lastChange >= this.recipe.guards.cooldownMs;
    const base: Pick<Explanation, 'strategy' | 'level'> = { strategy: 'learned', level: this.level };

    // Roll back a step whose first window is worse than the level before it beyond that level's own scatter
    // (a cliff: no need to wait); a smaller loss is judged over several windows (choose: far from the best).
    // (A window that violates a constraint is the constraint rule's to judge, below.)
    if (first && this.prevLevel !== undefined && !this.lastWasRollback && viol.length === 0) {
      const prev = this.arms.get(this.prevLevel);
      const margin = Math.max(CLIFF * this.noise, 3 * levelSd(this.arms, this.prevLevel, this.noise));
      // Only against a level measured for as many windows as a decision needs: the rules' baseline before the
      // first step is one mean, with no spread of its own, and a scattered objective (a mostly sleeping victim's
      // wait share) swings more than any fixed margin from one window to the next.
      // A level left by a leap has fewer windows than that: its mean is thin (a spell of one or two windows), so
      // the step from it is a cliff only when it also lost everything the leap had gained (worse than the level
      // below, where the leap started).
      const below = this.arms.get(this.prevLevel - 1);
      const thin = this.cameByLeap && below !== undefined && score < below.mean;
      if (prev && (prev.n >= this.minSamples || thin) && score < prev.mean - margin) {
        this.rollbackTo = this.prevLevel;
        this.block(this.level, BLOCK_WINDOWS);
        this.stats.rollbacks++;
        this.pending.push(
          `learned: level ${this.level} scored ${round(score)} in its first window, worse than level ${this.prevLevel} (${round(prev.mean)}) by more than ${round(margin)}: rolling back`,
        );
      }
    }
    if (this.rollbackTo !== undefined) {
      const to = this.rollbackTo;
      if (!cooled) return [];
      const gain = posterior(this.arms, to, this.noise).mean - score;
      return [
        this.move(to, {
          ...base,
          mode: 'rollback',
          expected_gain: gain,
          confidence: 1,
          text: `learned: rollback to level ${to} (the last step made the objective worse beyond the noise; expected gain ${round(gain)})`,
        }),
      ];
    }
    if (viol.length > 0) {
      // Violated one level down too (mostly): not this learner's doing; no step further, no step back.
      const below = this.level > 0 ? this.arms.get(this.level - 1) : undefined;
      if (below && below.n > 0 && below.violations / below.n >= 0.5) {
        this.block(this.level + 1, BLOCK_WINDOWS);
        return [];
      }
      this.block(this.level, BLOCK_WINDOWS);
      if (this.level > 0 && cooled) {
        this.stats.constraintSteps++;
        return [
          this.move(this.level - 1, {
            ...base,
            mode: 'constraint',
            text: `learned: constraint violated (${violationText(viol)}): one step back, no exploration`,
          }),
        ];
      }
      return [];
    }
    if (!cooled) return [];
    // A level measured for minSamples windows before this visit (earlier in the run, or in the saved model of a
    // warm start) and still far from the best-known one needs one fresh window, not minSamples, to move on toward it.
    const before = (this.arms.get(this.level)?.n ?? 0) - this.atLevel;
    const known = (before >= this.minSamples && farFromBest(this.arms, this.level, this.noise, this.minSamples)) || this.wideOfBest();
    const blocked = new Set([...this.blocked].filter(([, until]) => until > this.window).map(([l]) => l));
    const leap = this.atLevel < this.minSamples && !known && trigger ? this.leap(blocked) : undefined;
    if (this.atLevel < this.minSamples && !known && leap === undefined) return [];
    const sd = this.recent.stddev();
    if (this.recent.length >= 3 && sd !== undefined && sd > UNCERTAIN * this.noise) {
      return this.fallBack(
        `the objective varies too much to learn from (spread ${round(sd)} > ${UNCERTAIN} x noise ${this.noise})`,
        w,
        held,
        trigger,
      );
    }
    if (this.fallback !== undefined) {
      this.pending.push(`learned: back in control (${this.fallback} no longer holds)`);
      this.fallback = undefined;
    }
    if (leap !== undefined) {
      this.stable = 0;
      this.stats.explores++;
      this.stats.leaps++;
      this.leapt = true;
      return [
        this.move(this.level + 1, {
          ...base,
          mode: 'explore',
          expected_gain: leap,
          confidence: 0.5,
          text: `learned: explore level ${this.level} -> ${this.level + 1} after ${this.atLevel} window${this.atLevel === 1 ? '' : 's'} (the detectors still hold, level ${this.level} gained ${round(leap)} on level ${this.level - 1}, beyond ${LEAP} x the noise, and level ${this.level + 1} is untried)`,
        }),
      ];
    }
    if (this.leapPastBest()) {
      // The leap passed the best level: back to the level it left, to measure that one as long as any other.
      this.stable = 0;
      this.stats.exploits++;
      const gain = posterior(this.arms, this.level - 1, this.noise).mean - posterior(this.arms, this.level, this.noise).mean;
      return [
        this.move(this.level - 1, {
          ...base,
          mode: 'exploit',
          expected_gain: gain,
          confidence: 1,
          text: `learned: exploit level ${this.level} -> ${this.level - 1} (level ${this.level - 1}, left after ${this.arms.get(this.level - 1)!.n} window${this.arms.get(this.level - 1)!.n === 1 ? '' : 's'} on overwhelming evidence, is clearly better than level ${this.level}: expected gain ${round(gain)})`,
        }),
      ];
    }
    if (trigger) {
      // The detectors still say the protected entity suffers: go on in their direction to a level not tried
      // yet (unless a known level is far better: then back toward it), and go back only to a level known to
      // be better (betterAgainstDetectors).
      if (
        !blocked.has(this.level + 1) &&
        !this.arms.get(this.level + 1)?.n &&
        !farFromBest(this.arms, this.level, this.noise, this.minSamples)
      ) {
        this.stable = 0;
        this.stats.explores++;
        return [
          this.move(this.level + 1, {
            ...base,
            mode: 'explore',
            confidence: 0.5,
            text: `learned: explore level ${this.level} -> ${this.level + 1} (the detectors still hold and level ${this.level + 1} is untried)`,
          }),
        ];
      }
      if (this.level > 0 && !this.betterAgainstDetectors(this.level - 1)) blocked.add(this.level - 1);
    }
    const c = choose(this.arms, this.level, {
      noise: this.noise,
      changeCost: this.noise / 2,
      random: this.random,
      blocked,
      minSamples: this.minSamples,
    });
    this.stats.best = c.best;
    // Converged: no more probes of a neighbour the model expects to be worse (Thompson sampling would go on
    // drawing one now and then for ever: a neighbour's posterior does not narrow while the learner sits
    // elsewhere), and no move toward a neighbour measured for fewer than minSamples windows (a level left by a
    // leap: its thin mean, from a spell long ago, against the held level's long one), until the held level
    // itself drifts (other load came); a move toward a measured level the model expects to gain still goes.
    const drifted = this.stats.convergedAfter !== undefined && c.level !== this.level && this.drifted();
    const settled =
      this.stats.convergedAfter !== undefined &&
      c.level !== this.level &&
      (c.mode === 'explore'
        ? (this.arms.get(c.level)?.n ?? 0) >= 2 * this.minSamples
        : (this.arms.get(c.level)?.n ?? 0) < this.minSamples) &&
      !drifted;
    if (c.level === this.level || settled) {
      this.stable++;
      if (this.stable >= STABLE_WINDOWS && this.stats.convergedAfter === undefined) {
        this.stats.convergedAfter = this.lastChangeWindow - this.searchFrom;
        const since =
          this.searchFrom === this.engagedAt ? '' : ` since the drift ${this.searchFrom - this.engagedAt} windows after the first step`;
        this.pending.push(
          `learned: converged at level ${this.level} after ${this.stats.convergedAfter} windows${since} (holding for ${this.stable}; confidence no neighbour is better ${round(c.confidence)})`,
        );
      }
      return [];
    }
    this.stable = 0;
    if (drifted) {
      // The held level got worse by itself: a new search starts here, and convergence is counted from it.
      this.searchFrom = this.window;
      this.stats.drifts++;
      this.pending.push(
        `learned: level ${this.level} drifted (its last 3 windows worse than its windows before by more than the noise): searching again`,
      );
    }
    if (c.mode === 'explore') this.stats.explores++;
    else this.stats.exploits++;
    const text =
      `learned: ${c.mode} level ${this.level} -> ${c.level} (expected gain ${round(c.expectedGain)}, confidence ${round(c.confidence)}; ` +
      `best-known level ${c.best ?? 'none'}; ${this.atLevel} windows at level ${this.level})`;
    return [this.move(c.level, { ...base, mode: c.mode, expected_gain: c.expectedGain, confidence: c.confidence, text })];
  }

  acted(p: Proposal, ts: number): void {
    this.rules.acted(p, ts);
    this.lastChange = ts;
    if (!this.engaged) {
      if (p.kind !== 'step') return;
      this.engage(p);
      return;
    }
    if (p.action !== this.engaged.action || p.target.key !== this.engaged.target.key) return;
    this.prevLevel = this.level;
    const restore = p.kind === 'relax' && !p.stepBack && this.recipe.actions[p.action]?.relax === 'restore';
    this.level = restore ? 0 : Math.max(0, this.level + (p.kind === 'step' ? 1 : -1));
    this.lastWasRollback = p.explain?.mode === 'rollback';
    this.cameByLeap = this.leapt;
    this.leapt = false;
    if (this.lastWasRollback) this.rollbackTo = undefined;
    this.atLevel = 0;
    this.cleanAtLevel = 0;
    this.recent = new RollingWindow(10);
    this.lastChangeWindow = this.window;
    this.stats.level = this.level;
    this.stable = 0;
    if (this.stats.convergedAfter !== undefined) {
      this.pending.push(
        `learned: moved again (${p.explain?.mode ?? p.kind} to level ${this.level}) after converging at level ${this.prevLevel} after ${this.stats.convergedAfter} windows: not converged any more`,
      );
      this.stats.convergedAfter = undefined;
      this.stats.unconverged++;
    }
  }

  declined(p: Proposal): void {
    this.rules.declined(p); // its proposals (the first step, fallbacks) are held back the same way
    if (!this.engaged || p.explain?.strategy !== 'learned' || p.explain.mode === 'rollback') return;
    // The rules' proposals for other targets carry the learner's tag too: a refusal there says nothing of this level.
    if (p.action !== this.engaged.action || p.target.key !== this.engaged.target.key) return;
    // At a bound, refused or nothing to do: do not ask for that level again for a while.
    this.block(this.level + (p.kind === 'step' ? 1 : -1), BLOCK_WINDOWS);
  }

  notices(): string[] {
    return [...this.rules.notices(), ...this.pending.splice(0)];
  }

  close(): void {
    const eng = this.engaged;
    if (!eng) return;
    const s = this.stats;
    this.pending.push(
      `learned: ${s.windows} windows at the target, ended at level ${this.level} (best-known ${bestLevel(this.arms, this.minSamples) ?? 'none'}); ` +
        `${s.exploits} exploit, ${s.explores} explore (${s.leaps} on overwhelming evidence), ${s.rollbacks} rollback${s.rollbacks === 1 ? '' : 's'}, ${s.constraintSteps} constraint step${s.constraintSteps === 1 ? '' : 's'} back, ` +
        `${s.fallbackWindows} window${s.fallbackWindows === 1 ? '' : 's'} decided by the rules; a constraint violated at most ${s.maxViolationRun} window${s.maxViolationRun === 1 ? '' : 's'} in a row; ` +
        `${s.convergedAfter !== undefined ? `converged after ${s.convergedAfter} windows` : 'did not converge'}; ` +
        `moved again after converging ${s.unconverged} time${s.unconverged === 1 ? '' : 's'} (${s.drifts} on a drift of the held level)`,
    );
    if (this.o.store && eng.original !== undefined) {
      this.o.store.save(eng.key, { original: eng.original, arms: this.arms });
      this.pending.push(`learned: saved the model of ${eng.target.key} to ${this.o.store.file}`);
    }
  }

  private engage(p: Proposal): void {
    this.engaged = { action: p.action, target: p.target, key: entryKey(this.recipe.name, p.action, p.target.key) };
    this.engagedAt = this.window;
    this.searchFrom = this.window;
    this.lastChangeWindow = this.window;
    this.prevLevel = 0;
    this.level = 1;
    this.stats.level = 1;
    this.atLevel = 0;
    this.cleanAtLevel = 0;
    const before = this.rules.baseline;
    if (this.o.store) {
      const { entry, warning } = this.o.store.load(this.engaged.key);
      if (warning) this.pending.push(`learned: ${warning}`);
      if (entry) {
        this.arms = entry.arms;
        this.engaged.loaded = entry.original;
        this.pending.push(
          `learned: warm start for ${p.target.key} from ${this.o.store.file} (${[...entry.arms.values()].reduce((n, a) => n + a.n, 0)} windows over ${entry.arms.size} levels; best-known level ${bestLevel(entry.arms) ?? 'none'})`,
        );
        return;
      }
    }
    if (before !== undefined)
      addSample(
        this.arms,
        0,
        this.rules.outcome.score(before),
        this.lastRecords !== undefined && this.rules.outcome.violations(this.lastRecords).length > 0,
      );
  }

  /**
   * Going back to `level` against the detectors (they still hold here) needs evidence: that level was measured
   * for as many windows as a decision needs (not the rules' baseline, one window before the first step), and
   * it is better by more than the noise, twice the standard error of the difference and one window's spread
   * at the current level. Windows are not independent (outside load comes and goes in spells of seconds), so
   * the standard error alone is optimistic: a mostly sleeping victim's wait share scatters by 0.1-0.24 from
   * one window to the next at every weight, and means over a few windows differ by that much by chance.
   */
  private betterAgainstDetectors(level: number): boolean {
    if (!clearlyBetter(this.arms, level, this.level, this.noise, this.minSamples)) return false;
    const gap = this.arms.get(level)!.mean - this.arms.get(this.level)!.mean;
    return gap > Math.max(levelSd(this.arms, this.level, this.noise), pooledSd(this.arms) ?? 0);
  }

  /**
   * Overwhelming evidence: the level the last step reached (one step up from the level before) scores better than
   * that level by more than LEAP x the noise and 3 x that level's window spread, in the windows seen so far, and
   * the next level up is untried and allowed. Then the learner moves on at once instead of measuring this level for
   * minSamples windows (the expected gain: what this level gained). Every other judgement still waits for
   * minSamples windows: a level left by a leap is not known well enough to be the best-known one.
   */
  private leap(blocked: ReadonlySet<number>): number | undefined {
    if (this.prevLevel !== this.level - 1 || this.lastWasRollback) return undefined;
    if (blocked.has(this.level + 1) || this.arms.get(this.level + 1)?.n) return undefined;
    const prev = this.arms.get(this.level - 1);
    const here = this.arms.get(this.level);
    if (!prev || prev.n === 0 || !here || here.n !== this.atLevel) return undefined;
    const gain = here.mean - prev.mean;
    return gain > Math.max(LEAP * this.noise, 3 * levelSd(this.arms, this.level - 1, this.noise)) ? gain : undefined;
  }

  /**
   * The level held since the last change scored worse in its last 3 windows than in its windows before them,
   * by more than the noise and twice the standard error of 3 windows: the world changed, the model may be stale.
   */
  private drifted(): boolean {
    const xs = this.recent.values().slice(-3);
    const a = this.arms.get(this.level);
    if (xs.length < 3 || !a || a.n - 3 < this.minSamples) return false;
    const sum = xs.reduce((x, y) => x + y, 0);
    const before = (a.mean * a.n - sum) / (a.n - 3);
    return before - sum / 3 > Math.max(this.noise, (2 * levelSd(this.arms, this.level, this.noise)) / Math.sqrt(3));
  }

  /**
   * Overwhelming evidence the other way: the best-known level (measured for minSamples windows) is better than
   * this one, as measured so far, by more than LEAP x the noise and 3 x the best level's window spread. Then one
   * window here is enough to head back toward it (a level left by a leap in an earlier run has too few windows to
   * count as measured, but one fresh window can still show it far off the best).
   */
  private wideOfBest(): boolean {
    const best = bestLevel(this.arms, this.minSamples);
    const here = this.arms.get(this.level);
    if (best === undefined || best === this.level || !here) return false;
    return this.arms.get(best)!.mean - here.mean > Math.max(LEAP * this.noise, 3 * levelSd(this.arms, best, this.noise));
  }

  /**
   * The step into this level was a leap and this level is clearly worse than the one left (the best level was
   * passed): no further step in the detectors' direction; the choice among the neighbours decides.
   */
  private leapPastBest(): boolean {
    return this.cameByLeap && this.level > 0 && clearlyBetter(this.arms, this.level - 1, this.level, this.noise, 1);
  }

  private move(to: number, explain: Explanation): Proposal {
    const eng = this.engaged!;
    const up = to > this.level;
    return {
      kind: up ? 'step' : 'relax',
      ...(up ? {} : { stepBack: true }),
      action: eng.action,
      target: eng.target,
      rule: `learned ${explain.mode}`,
      evidence: [],
      explain,
    };
  }

  private block(level: number, windows: number): void {
    this.blocked.set(level, this.window + windows);
  }

  private tag(p: Proposal, why: string): Proposal {
    const text = `learned: ${why}: ${p.explain?.text ?? p.rule}`;
    return { ...p, explain: { strategy: 'learned', mode: 'fallback', level: this.level, text } };
  }

  private fallBack(why: string, w: Window, held: readonly HeldTarget[], trigger: boolean): Proposal[] {
    this.stats.fallbackWindows++;
    // One notice per kind of reason (the figures in it change every window).
    if (this.fallback?.split(' (')[0] !== why.split(' (')[0]) this.pending.push(`learned: falling back to the rules: ${why}`);
    this.fallback = why;
    return this.rules.decide(w, held, trigger).map((p) => this.tag(p, `falling back to the rules (${why})`));
  }
}
