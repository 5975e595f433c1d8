/** The last `size` samples and their spread (simple-statistics): the learner's recent objective scores. */
import { sampleStandardDeviation } from 'simple-statistics';

export class RollingWindow {
  private buf: number[] = [];

  constructor(readonly size: number) {
    if (!(Number.isInteger(size) && size > 0)) throw new RangeError(`window size must be a positive integer, got ${size}`);
  }

  push(x: number): void {
    this.buf.push(x);
    if (this.buf.length > this.size) this.buf.shift();
  }

  get length(): number {
    return this.buf.length;
  }

  values(): readonly number[] {
    return this.buf;
  }

  /** Sample standard deviation; undefined with fewer than two samples. */
  stddev(): number | undefined {
    return this.buf.length >= 2 ? sampleStandardDeviation(this.buf) : undefined;
  }
}
