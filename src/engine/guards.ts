/**
 * Guards every planned change passes, whatever the strategy: numeric bounds
 * (a step stays within the action's declared bounds; a relaxation moves only
 * toward the original), a per-knob cooldown, and a per-recipe budget of
 * changes per hour. Pure functions of the values and timestamps.
 */

/** Why a step's new value is outside its bounds, or undefined. */
export function boundsRefusal(value: number, bounds: { min: number; max: number } | undefined): string | undefined {
  if (!bounds) return undefined;
  if (!Number.isFinite(value)) return `new value ${value} is not a number`;
  if (value < bounds.min || value > bounds.max) return `new value ${value} is outside the bounds ${bounds.min}..${bounds.max}`;
  return undefined;
}

/** A relaxation must land between the current value and the original (inclusive). */
export function relaxRefusal(current: string, next: string, original: string): string | undefined {
  if (next === original) return undefined;
  const [c, n, o] = [current, next, original].map((s) => Number(s.split(' ')[0] === 'max' ? Infinity : s.split(' ')[0]));
  if ([c, n, o].every((x) => Number.isFinite(x) || x === Infinity) && !(Math.min(c!, o!) <= n! && n! <= Math.max(c!, o!))) {
    return `relaxing to ${next} would not move ${current} toward the original ${original}`;
  }
  return undefined;
}

/** Changes of one recipe within a sliding hour. */
export class HourlyBudget {
  private times: number[] = [];

  constructor(readonly max: number) {}

  /** Why no change may happen at ts, or undefined. */
  refusal(ts: number): string | undefined {
    this.times = this.times.filter((t) => ts - t < 3_600_000);
    return this.times.length >= this.max ? `its budget of ${this.max} changes per hour is used up` : undefined;
  }

  spend(ts: number): void {
    this.times.push(ts);
  }
}

/** Why a knob last changed at `last` may not change at `ts`, or undefined. */
export function cooldownRefusal(last: number | undefined, ts: number, cooldownMs: number): string | undefined {
  if (last === undefined || ts - last >= cooldownMs) return undefined;
  return `changed ${((ts - last) / 1000).toFixed(1)} s ago; cooldown ${cooldownMs / 1000} s`;
}
