/**
 * A threshold detector with hysteresis, tracked per entity: an entity turns
 * active once its value has been beyond the trigger threshold (`above` or
 * `below`) for `for` consecutive windows, and turns inactive once it has
 * been back past the clear threshold for `clear_for` windows. Between the two
 * thresholds nothing changes, so a value hovering at the threshold does not
 * flap. A window without a value for an active entity counts toward clearing.
 * With `smooth`, the value compared is the entity's EWMA (half-life in
 * windows); with `burst`, the trigger is the value jumping above its own
 * moving baseline (aggregate/burst.ts) and it clears once it is back under.
 */
import { BurstDetector } from '../aggregate/burst.js';
import { Ewma } from '../aggregate/ewma.js';
import type { Entity } from './paths.js';
import { samplesOf, type SignalRecords } from './samples.js';

export interface DetectorSpec {
  name: string;
  signal: string;
  /** Trigger direction and threshold. */
  op: 'above' | 'below';
  threshold: number;
  /** Clear threshold: below it (op above) or above it (op below) the entity clears. */
  clear: number;
  for: number;
  clearFor: number;
  /** EWMA half-life in windows: compare the smoothed value. */
  smooth?: number;
  /** Trigger on bursts over a moving baseline instead of a fixed threshold (threshold and clear are NaN). */
  burst?: { k: number; minRise: number; halfLife: number };
}

export interface EntityState {
  entity: Entity;
  active: boolean;
  /** Consecutive windows beyond the trigger threshold (while inactive) or past the clear threshold (while active). */
  streak: number;
  /** Windows the entity has been active. */
  heldWindows: number;
  value: number | undefined;
  /** The threshold in force for this entity (a burst detector's moves with its baseline). */
  threshold?: number;
}

export class ThresholdDetector {
  private states = new Map<string, EntityState>();
  /** Every entity's value in the latest window (active or not). */
  private latest = new Map<string, number>();
  private smoothers = new Map<string, Ewma>();
  private bursts = new Map<string, BurstDetector>();
  /** Burst verdicts of the latest window. */
  private burstNow = new Map<string, { burst: boolean; threshold?: number }>();

  constructor(readonly spec: DetectorSpec) {}

  private beyond(v: number, id: string): boolean {
    if (this.spec.burst) return this.burstNow.get(id)?.burst ?? false;
    return this.spec.op === 'above' ? v > this.spec.threshold : v < this.spec.threshold;
  }

  private cleared(v: number, id: string): boolean {
    if (this.spec.burst) return !(this.burstNow.get(id)?.burst ?? false);
    return this.spec.op === 'above' ? v < this.spec.clear : v > this.spec.clear;
  }

  /** The value the detector compares: raw, or the entity's EWMA; burst verdicts on it. */
  private filtered(id: string, raw: number): number {
    let v = raw;
    if (this.spec.smooth) {
      let e = this.smoothers.get(id);
      if (!e) this.smoothers.set(id, (e = Ewma.fromHalfLife(this.spec.smooth)));
      v = e.update(raw);
    }
    if (this.spec.burst) {
      let b = this.bursts.get(id);
      if (!b)
        this.bursts.set(
          id,
          (b = new BurstDetector({ k: this.spec.burst.k, minRise: this.spec.burst.minRise, halfLife: this.spec.burst.halfLife })),
        );
      const verdict = b.observe(v);
      this.burstNow.set(id, { burst: verdict.burst, ...(verdict.threshold !== undefined ? { threshold: verdict.threshold } : {}) });
    }
    return v;
  }

  /** Feed one window. */
  update(records: SignalRecords): void {
    const seen = new Set<string>();
    this.latest.clear();
    for (const s of samplesOf(this.spec.signal, records)) {
      const id = `${s.entity.kind}:${s.entity.key}`;
      seen.add(id);
      const v = this.filtered(id, s.value);
      this.latest.set(id, v);
      const st = this.states.get(id) ?? { entity: s.entity, active: false, streak: 0, heldWindows: 0, value: undefined };
      st.value = v;
      const th = this.burstNow.get(id)?.threshold;
      if (th !== undefined) st.threshold = th;
      this.step(st, v, id);
      this.states.set(id, st);
    }
    for (const id of [...this.smoothers.keys(), ...this.bursts.keys()]) {
      if (!seen.has(id) && !this.states.get(id)?.active) {
        this.smoothers.delete(id);
        this.bursts.delete(id);
      }
    }
    for (const [id, st] of this.states) {
      if (seen.has(id)) continue;
      st.value = undefined;
      if (!st.active) this.states.delete(id);
      else this.step(st, undefined, id);
      if (!st.active && st.streak === 0) this.states.delete(id);
    }
  }

  private step(st: EntityState, v: number | undefined, id: string): void {
    if (!st.active) {
      st.streak = v !== undefined && this.beyond(v, id) ? st.streak + 1 : 0;
      if (st.streak >= this.spec.for) {
        st.active = true;
        st.streak = 0;
        st.heldWindows = this.spec.for;
      }
      return;
    }
    st.heldWindows++;
    st.streak = v === undefined || this.cleared(v, id) ? st.streak + 1 : 0;
    if (st.streak >= this.spec.clearFor) {
      st.active = false;
      st.streak = 0;
      st.heldWindows = 0;
    }
  }

  /** Entities active now. */
  active(): EntityState[] {
    return [...this.states.values()].filter((s) => s.active);
  }

  isActive(entity: Entity): boolean {
    return this.states.get(`${entity.kind}:${entity.key}`)?.active ?? false;
  }

  /** The entity's value in the latest window, active or not. */
  valueOf(entity: Entity): number | undefined {
    return this.latest.get(`${entity.kind}:${entity.key}`);
  }

  state(entity: Entity): EntityState | undefined {
    return this.states.get(`${entity.kind}:${entity.key}`);
  }
}
