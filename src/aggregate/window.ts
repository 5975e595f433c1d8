/** The last `size` samples, with the statistics detectors ask of them (simple-statistics). */
import { mean, quantileSorted, sampleStandardDeviation } from 'simple-statistics';

export class RollingWindow {
  private buf: number[] = [];

  constructor(readonly size: number) {
    if (!(Number.isInteger(size) && size > 0)) throw new RangeError(`window size must be a positive integer, got ${size}`);
  }

  push(x: number): void {
    this.buf.push(x);
    if (this.buf.length > this.size) this.buf.shift();
  }

  get full(): boolean {
    return this.buf.length === this.size;
  }

  get length(): number {
    return this.buf.length;
  }

  values(): readonly number[] {
    return this.buf;
  }

  mean(): number | undefined {
    return this.buf.length ? mean(this.buf) : undefined;
  }

  /** Sample standard deviation; undefined with fewer than two samples. */
  stddev(): number | undefined {
    return this.buf.length >= 2 ? sampleStandardDeviation(this.buf) : undefined;
  }

  /** Quantile q in [0, 1] of the samples in the window. */
  quantile(q: number): number | undefined {
    return samplePercentile(this.buf, q);
  }
}

/** Quantile q in [0, 1] of raw samples (linear interpolation between order statistics). */
export function samplePercentile(xs: readonly number[], q: number): number | undefined {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
  if (xs.length === 0) return undefined;
  return quantileSorted([...xs].sort((a, b) => a - b), q);
}
