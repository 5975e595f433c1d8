/**
 * Log2 histograms as the BPF programs keep them: slot k counts values in
 * [2^k, 2^(k+1)), slot 0 also holds 0 and 1. Percentiles interpolate
 * linearly inside the slot that holds the rank, which is exact for the slot
 * boundaries and at worst off by the slot's width (a factor of 2) inside it.
 */

/** Lower bound of slot k. */
export function slotLow(k: number): number {
  return k === 0 ? 0 : 2 ** k;
}

/** Upper bound (exclusive) of slot k. */
export function slotHigh(k: number): number {
  return 2 ** (k + 1);
}

/** A histogram's slots: an array, or a view of a map read (Uint32Array). */
export type Hist = ArrayLike<number>;

export function histCount(h: Hist): number {
  let n = 0;
  for (let i = 0; i < h.length; i++) n += h[i]!;
  return n;
}

/** Add h into acc element-wise (acc grows to h's length); returns acc. */
function histAddInto(acc: number[], h: Hist): number[] {
  for (let i = 0; i < h.length; i++) acc[i] = (acc[i] ?? 0) + h[i]!;
  return acc;
}

/** Element-wise sum; the result is as long as the longest input. */
export function histAdd(...hs: Hist[]): number[] {
  return histSum(hs);
}

/** Element-wise sum of any number of histograms (no argument spread: thousands of processes). */
export function histSum(hs: Iterable<Hist>): number[] {
  const out: number[] = [];
  for (const h of hs) histAddInto(out, h);
  return out;
}

/** Element-wise difference of cumulative u32 counters, modulo 2^32 (the kernel side wraps). */
export function histDelta32(cur: Hist, prev: Hist | undefined): number[] {
  const out = new Array<number>(cur.length);
  for (let i = 0; i < cur.length; i++) out[i] = (cur[i]! - (prev?.[i] ?? 0)) >>> 0;
  return out;
}

/**
 * The q-quantile (0 < q <= 1) of a log2 histogram, in the histogram's unit,
 * or undefined when it is empty. The rank is ceil(q * n) (nearest-rank).
 */
export function log2Quantile(h: Hist, q: number): number | undefined {
  if (!(q > 0 && q <= 1)) throw new RangeError(`quantile must be in (0, 1], got ${q}`);
  const n = histCount(h);
  if (n === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (let k = 0; k < h.length; k++) {
    const c = h[k] ?? 0;
    if (c === 0) continue;
    if (seen + c >= rank) {
      const within = (rank - seen) / c; // in (0, 1]
      return slotLow(k) + within * (slotHigh(k) - slotLow(k));
    }
    seen += c;
  }
  return slotHigh(h.length - 1);
}

/** Upper bound of the highest non-empty slot: a ceiling on the maximum. */
export function log2MaxBound(h: Hist): number | undefined {
  for (let k = h.length - 1; k >= 0; k--) if ((h[k] ?? 0) > 0) return slotHigh(k);
  return undefined;
}
