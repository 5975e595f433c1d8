/**
 * The Strategy interface: given one window of records (and what the engine
 * currently holds), propose steps and relaxations. A strategy never writes
 * and never bypasses guards: the engine checks scope, bounds, per-knob
 * cooldown and the hourly change budget on whatever is proposed, so a
 * learned strategy can implement this interface later with the same safety.
 */
import type { Entity } from '../detect/paths.js';
import type { SignalRecords } from '../detect/samples.js';

export interface Window {
  /** End of the window, ms since the epoch (from the records: replays keep their own clock). */
  ts: number;
  records: SignalRecords;
}

export interface Evidence {
  detector: string;
  signal: string;
  /** The entity the value is about ("/a/b", a PID, "scope"), and its label ("pid 7"). */
  entity: string;
  label: string;
  value: number | null;
  op: 'above' | 'below';
  threshold: number;
  clear: number;
  /** Windows the detector has held this entity active (0: not active). */
  windows: number;
  active: boolean;
}

/** Why a strategy proposed a change, for the log. */
export interface Explanation {
  strategy: 'heuristic' | 'learned';
  /**
   * rule: the detectors' condition holds; objective: the objective improved
   * after the last step (or got worse: a step back); constraint: a constraint
   * was hit; explore/exploit/rollback: the learner's choice; fallback: the
   * learner handed the decision to the rules.
   */
  mode: 'rule' | 'objective' | 'constraint' | 'explore' | 'exploit' | 'rollback' | 'fallback';
  /** Expected change of the objective's score (higher is better) from this step, in its unit. */
  expected_gain?: number;
  /** Probability the step is an improvement, under the learner's model. */
  confidence?: number;
  /** Steps away from the original value, before this change. */
  level?: number;
  text: string;
}

export interface Proposal {
  kind: 'step' | 'relax';
  /** A relax that undoes one step, even for actions whose relax restores the original. */
  stepBack?: boolean;
  explain?: Explanation;
  /** Index of the recipe's action. */
  action: number;
  target: Entity;
  /** The condition that decided it, in words ("starved and dominant"). */
  rule: string;
  evidence: Evidence[];
}

/** A target whose knobs the engine holds changed, per action. */
export interface HeldTarget {
  action: number;
  entity: Entity;
  /** The knob's value before tuner changed it (the first knob, for actions with several). */
  original?: string;
}

export interface Strategy {
  readonly kind: string;
  observe(w: Window, held: readonly HeldTarget[]): Proposal[];
  /** The engine changed something for this proposal at `ts`: restart windows and cooldown. */
  acted(p: Proposal, ts: number): void;
  /** The engine did not change anything for this proposal (a guard, a bound, a skip). */
  declined?(p: Proposal, ts: number): void;
  /** Messages for the log since the last call (fallbacks, convergence, warm starts). */
  notices?(): string[];
  /** The run is over: persist what was learned. */
  close?(): void;
}

/** "/a/b sched.cgroups.wait_share 0.93 > 0.4 for 2 windows; ..." */
export function evidenceText(ev: readonly Evidence[]): string {
  return ev
    .map((e) => {
      const who = e.entity === 'scope' ? '' : `${e.label} `;
      if (e.value === null) return `${who}${e.signal} has no value`;
      const w = `${e.windows} window${e.windows === 1 ? '' : 's'}`;
      const beyond = e.op === 'above' ? e.value > e.threshold : e.value < e.threshold;
      if (e.active && beyond) return `${who}${e.signal} ${round(e.value)} ${e.op === 'above' ? '>' : '<'} ${e.threshold}, active for ${w}`;
      if (e.active)
        return `${who}${e.signal} ${round(e.value)}, active for ${w} (went ${e.op} ${e.threshold}, not yet back ${e.op === 'above' ? 'below' : 'above'} ${e.clear})`;
      const clear = e.op === 'above' ? e.value < e.clear : e.value > e.clear;
      if (clear) return `${who}${e.signal} ${round(e.value)} is clear (${e.op === 'above' ? '<' : '>'} ${e.clear})`;
      return `${who}${e.signal} ${round(e.value)} is not active (it triggers ${e.op} ${e.threshold})`;
    })
    .join('; ');
}

const round = (x: number): number => (Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000);
