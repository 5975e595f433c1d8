/** What one signal contributes to one run of `record`. */
export interface SignalSummary {
  /** Gated by `compare`: lower is better; null when the run had nothing to measure (no waits: no percentile). */
  metrics: Record<string, number | null>;
  /** Shown and kept, not gated (counts by kind, maxima, per-device figures). */
  details: Record<string, unknown>;
  warnings: string[];
}

/** µs with one decimal, or null. */
export function roundUs(us: number | undefined | null): number | null {
  return us === undefined || us === null || !Number.isFinite(us) ? null : Math.round(us * 10) / 10;
}
