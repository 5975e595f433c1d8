/**
 * CPU weight on both cgroup versions, converted the way systemd converts
 * CPUWeight= for cgroup v1 (integer arithmetic, clamped to each range):
 * shares = weight * 1024 / 100 in [2, 262144]; weight = shares * 100 / 1024
 * in [1, 10000]. Default: weight 100 = shares 1024.
 */

export const WEIGHT_MIN = 1;
export const WEIGHT_DEFAULT = 100;
export const WEIGHT_MAX = 10_000;
export const SHARES_MIN = 2;
export const SHARES_DEFAULT = 1024;
export const SHARES_MAX = 262_144;

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

export function weightToShares(weight: number): number {
  return clamp(Math.floor((weight * SHARES_DEFAULT) / WEIGHT_DEFAULT), SHARES_MIN, SHARES_MAX);
}

export function sharesToWeight(shares: number): number {
  return clamp(Math.floor((shares * WEIGHT_DEFAULT) / SHARES_DEFAULT), WEIGHT_MIN, WEIGHT_MAX);
}

/** The weight file of a cgroup version. */
export function weightFile(version: 1 | 2): 'cpu.shares' | 'cpu.weight' {
  return version === 1 ? 'cpu.shares' : 'cpu.weight';
}

/** A weight file's text -> weight (v1 shares are converted). */
export function readWeight(version: 1 | 2, text: string): number {
  const n = Number(text.trim());
  if (!Number.isInteger(n)) throw new Error(`not a CPU weight: ${JSON.stringify(text)}`);
  return version === 1 ? sharesToWeight(n) : clamp(n, WEIGHT_MIN, WEIGHT_MAX);
}

/** Weight -> the text written to the version's file. */
export function weightText(version: 1 | 2, weight: number): string {
  return String(version === 1 ? weightToShares(weight) : clamp(Math.round(weight), WEIGHT_MIN, WEIGHT_MAX));
}
