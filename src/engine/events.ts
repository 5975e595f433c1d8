/**
 * What `run` and `replay` report, one event at a time. Decision events are
 * also the audit-log records: {"ts","recipe","detector","evidence","action",
 * "target","knob","old","new","applied","reverted"} plus the reason line.
 */
import type { RestoreOutcome } from '../journal/restore.js';
import type { Explanation } from '../strategy/strategy.js';

export type Mode = 'apply' | 'audit' | 'replay';

export interface EvidenceRecord {
  signal: string;
  entity: string;
  value: number | null;
  above?: number;
  below?: number;
  clear: number;
  windows: number;
  active: boolean;
}

export interface DecisionEvent {
  type: 'decision';
  ts: string;
  recipe: string;
  /** The detectors whose evidence decided it ("starved+dominant"). */
  detector: string;
  evidence: Record<string, EvidenceRecord>;
  action: string;
  target: string;
  knob: string;
  old: string;
  new: string;
  /** The knob was written (false in audit mode and replay). */
  applied: boolean;
  /** This puts an original value back (exit, relax to the original). */
  reverted: boolean;
  kind: 'step' | 'relax' | 'revert';
  reason: string;
  /** How the strategy decided (mode, expected gain, confidence). */
  strategy?: Explanation;
}

/** Nothing to do for a proposal (at a bound, already there, waiting for cooldown). */
export interface SkipEvent {
  type: 'skip';
  ts: string;
  recipe: string;
  action: string;
  target: string;
  reason: string;
}

/** A planned change the guards refused (outside the scope, out of bounds, claimed by another). */
export interface RefusedEvent {
  type: 'refused';
  ts: string;
  recipe: string;
  action: string;
  target: string;
  knob: string;
  reason: string;
}

/** Someone else changed a knob tuner set: tuner leaves it alone from now on. */
export interface YieldEvent {
  type: 'yield';
  ts: string;
  recipe: string;
  action: string;
  target: string;
  knob: string;
  expected: string;
  found: string;
  reason: string;
}

export interface ErrorEvent {
  type: 'error';
  ts: string;
  recipe: string;
  action: string;
  target: string;
  knob?: string;
  message: string;
}

export interface NoticeEvent {
  type: 'notice';
  ts: string;
  recipe?: string;
  message: string;
}

/** A knob restored from the journal of a tuner that was killed. */
export interface RecoveredEvent extends RestoreOutcome {
  type: 'recovered';
  ts: string;
  journal: string;
}

export interface SummaryEvent {
  type: 'summary';
  ts: string;
  mode: Mode;
  windows: number;
  /** Time from start to the first change (or would-be change), ms. */
  first_change_ms: number | null;
  recipes: Array<{
    recipe: string;
    changes: Array<{ ts: string; knob: string; old: string; new: string; reason: string; applied: boolean }>;
    reverted: Array<{ knob: string; to: string; result: 'restored' | 'unchanged' | 'yielded' | 'gone' | 'kept' | 'failed' }>;
  }>;
}

export type RunEvent = DecisionEvent | SkipEvent | RefusedEvent | YieldEvent | ErrorEvent | NoticeEvent | RecoveredEvent | SummaryEvent;
