/**
 * A Prometheus histogram fed with the kernel side's log2 histograms: slot k
 * of a BPF histogram counts values in [2^k, 2^(k+1)) ns, so its counts add
 * to the bucket whose upper bound is 2^(k+1) ns, in seconds. prom-client's
 * own Histogram takes one observation at a time; this one takes a whole
 * interval's slots at once and serves them through the same registry.
 */
import type { Registry } from 'prom-client';
import type { Hist } from '../aggregate/histogram.js';

/** Smallest and largest slot with a bucket of its own: [0, 2^10 ns) ~ 1 µs ... [2^34, 2^35) ns ~ 34 s. */
const FIRST_SLOT = 9;
const LAST_SLOT = 34;

/** Upper bounds of the buckets, in seconds (without +Inf). */
export const LOG2_BOUNDS_SECONDS: readonly number[] = Array.from(
  { length: LAST_SLOT - FIRST_SLOT + 1 },
  (_, i) => 2 ** (FIRST_SLOT + i + 1) / 1e9,
);

interface Series {
  labels: Record<string, string>;
  /** Non-cumulative counts per bucket; the last one is +Inf. */
  counts: number[];
  sum: number;
}

export class Log2Histogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  private key(labels: Record<string, string>): string {
    return this.labelNames.map((l) => labels[l] ?? '').join('\u0000');
  }

  /** Add an interval's slots (ns) and the sum of its values (seconds). */
  add(labels: Record<string, string>, slots: Hist, sumSeconds: number): void {
    const k = this.key(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { labels: { ...labels }, counts: new Array<number>(LOG2_BOUNDS_SECONDS.length + 1).fill(0), sum: 0 };
      this.series.set(k, s);
    }
    for (let slot = 0; slot < slots.length; slot++) {
      const c = slots[slot]!;
      if (c === 0) continue;
      const b = slot <= FIRST_SLOT ? 0 : slot > LAST_SLOT ? LOG2_BOUNDS_SECONDS.length : slot - FIRST_SLOT;
      s.counts[b]! += c;
    }
    s.sum += sumSeconds;
  }

  remove(labels: Record<string, string>): void {
    this.series.delete(this.key(labels));
  }

  reset(): void {
    this.series.clear();
  }

  /** prom-client's metric shape: _bucket (cumulative, le), _sum, _count per series. */
  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }>;
  }> {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const s of this.series.values()) {
      let acc = 0;
      for (let b = 0; b < s.counts.length; b++) {
        acc += s.counts[b]!;
        const le = b < LOG2_BOUNDS_SECONDS.length ? LOG2_BOUNDS_SECONDS[b]! : '+Inf';
        values.push({ labels: { ...s.labels, le }, value: acc, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: acc, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
