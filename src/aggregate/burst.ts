/**
 * Burst detection on a per-interval rate (IOPS, switches/s, ...): a sample is
 * a burst when it exceeds the EWMA of past samples by k standard deviations
 * (EW variance) and by at least `minRise` of the mean, so a flat baseline
 * with near-zero variance does not flag noise. Bursts do not feed the
 * baseline (a burst would otherwise raise its own threshold), except after
 * `adaptAfter` bursts in a row: then the level has changed and the baseline
 * follows it.
 */
import { Ewma } from './ewma.js';

export interface BurstOptions {
  /** Samples whose weight halves the baseline's memory (default 10). */
  halfLife?: number;
  /** Standard deviations above the baseline (default 4). */
  k?: number;
  /** Least relative rise over the baseline mean (default 0.5, i.e. +50%). */
  minRise?: number;
  /** Samples before any verdict (default 5). */
  warmup?: number;
  /** Consecutive bursts after which the baseline adapts (default 20). */
  adaptAfter?: number;
}

export interface BurstVerdict {
  value: number;
  burst: boolean;
  /** Baseline before this sample (undefined during warm-up). */
  baseline?: number;
  threshold?: number;
}

export class BurstDetector {
  private ewma: Ewma;
  private k: number;
  private minRise: number;
  private warmup: number;
  private adaptAfter: number;
  private streak = 0;

  constructor(opts: BurstOptions = {}) {
    this.ewma = Ewma.fromHalfLife(opts.halfLife ?? 10);
    this.k = opts.k ?? 4;
    this.minRise = opts.minRise ?? 0.5;
    this.warmup = opts.warmup ?? 5;
    this.adaptAfter = opts.adaptAfter ?? 20;
  }

  observe(value: number): BurstVerdict {
    const mean = this.ewma.mean;
    if (mean === undefined || this.ewma.count < this.warmup) {
      this.ewma.update(value);
      return { value, burst: false };
    }
    const threshold = mean + Math.max(this.k * this.ewma.stddev, this.minRise * Math.abs(mean));
    const burst = value > threshold;
    if (!burst) {
      this.streak = 0;
      this.ewma.update(value);
    } else if (++this.streak >= this.adaptAfter) {
      this.ewma.update(value);
    }
    return { value, burst, baseline: mean, threshold };
  }
}
