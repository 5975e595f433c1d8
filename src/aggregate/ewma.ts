/**
 * Exponentially weighted moving average and variance (West's incremental
 * form): `alpha` is the weight of the newest sample; `fromHalfLife(n)` gives
 * the alpha whose weight halves every n samples.
 */
export class Ewma {
  private m: number | undefined;
  private v = 0;
  private n = 0;

  constructor(readonly alpha: number) {
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`EWMA alpha must be in (0, 1], got ${alpha}`);
  }

  static fromHalfLife(samples: number): Ewma {
    return new Ewma(1 - Math.pow(0.5, 1 / samples));
  }

  update(x: number): number {
    this.n++;
    if (this.m === undefined) {
      this.m = x;
      return x;
    }
    const diff = x - this.m;
    const incr = this.alpha * diff;
    this.m += incr;
    this.v = (1 - this.alpha) * (this.v + diff * incr);
    return this.m;
  }

  get mean(): number | undefined {
    return this.m;
  }

  get variance(): number {
    return this.v;
  }

  get stddev(): number {
    return Math.sqrt(this.v);
  }

  get count(): number {
    return this.n;
  }
}
