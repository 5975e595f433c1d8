/**
 * The thresholds diagnose judges by (documented in README; `--threshold
 * name=value` overrides one). Shares are fractions (0.1 = 10%), PSI values
 * percentages of the window.
 */
import { UsageError } from '../errors.js';

export const DEFAULT_THRESHOLDS = {
  /** Run-queue wait as a share of runnable time (wait + on-CPU). */
  'cpu.wait_share.warn': 0.1,
  'cpu.wait_share.critical': 0.3,
  /** Futex wait as a share of thread time (threads x window), with at least this many waits per second. */
  'lock.wait_share.warn': 0.2,
  'lock.wait_share.critical': 0.5,
  'lock.min_rate': 50,
  /** Block I/O wait as a share of the window (one thread blocked all the time = 1). */
  'io.wait_share.warn': 0.2,
  'io.wait_share.critical': 0.5,
  /** Time the cgroup spent throttled by its CFS quota, as a share of the window. */
  'throttle.share.warn': 0.05,
  'throttle.share.critical': 0.2,
  /** PSI "some" over the window, % (the cgroup's when it has pressure files, else the system's). */
  'psi.memory.warn': 10,
  'psi.memory.critical': 40,
  'psi.io.warn': 10,
  'psi.io.critical': 40,
  /** Share of the target's run-queue wait spent behind one other cgroup (or process). */
  'neighbor.share': 0.5,
} as const;

export type ThresholdName = keyof typeof DEFAULT_THRESHOLDS;
export type Thresholds = Record<ThresholdName, number>;

/** Apply `name=value` overrides; unknown names and non-numbers are usage errors. */
export function parseThresholds(overrides: readonly string[] = []): Thresholds {
  const t: Thresholds = { ...DEFAULT_THRESHOLDS };
  for (const o of overrides) {
    const m = /^([\w.]+)=(.+)$/.exec(o);
    if (!m) throw new UsageError(`--threshold: expected name=value, got ${JSON.stringify(o)}`);
    const name = m[1]!;
    if (!(name in t)) throw new UsageError(`--threshold ${name}: unknown threshold (known: ${Object.keys(t).join(', ')})`);
    const value = Number(m[2]);
    if (!Number.isFinite(value) || value < 0)
      throw new UsageError(`--threshold ${name}: expected a non-negative number, got ${JSON.stringify(m[2])}`);
    t[name as ThresholdName] = value;
  }
  return t;
}
