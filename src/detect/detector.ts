/**
 * A threshold detector with hysteresis, tracked per entity: an entity turns
 * active once its value has been beyond the trigger threshold (`above` or
 * `below`) for `for` consecutive windows, and turns inactive once it has
 * been back past the clear threshold for `clear_for` windows. Between the two
 * thresholds nothing changes, so a value hovering at the threshold does not
 * flap. A window without a value for an active entity counts toward clearing.
 */
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
}

export interface EntityState {
  entity: Entity;
  active: boolean;
  /** Consecutive windows beyond the trigger threshold (while inactive) or past the clear threshold (while active). */
  streak: number;
  /** Windows the entity has been active. */
  heldWindows: number;
  value: number | undefined;
}

export class ThresholdDetector {
  private states = new Map<string, EntityState>();
  /** Every entity's value in the latest window (active or not). */
  private latest = new Map<string, number>();

  constructor(readonly spec: DetectorSpec) {}

  private beyond(v: number): boolean {
    return this.spec.op === 'above' ? v > this.spec.threshold : v < this.spec.threshold;
  }

  private cleared(v: number): boolean {
    return this.spec.op === 'above' ? v < this.spec.clear : v > this.spec.clear;
  }

  /** Feed one window. */
  update(records: SignalRecords): void {
    const seen = new Set<string>();
    this.latest.clear();
    for (const s of samplesOf(this.spec.signal, records)) {
      const id = `${s.entity.kind}:${s.entity.key}`;
      seen.add(id);
      this.latest.set(id, s.value);
      const st = this.states.get(id) ?? { entity: s.entity, active: false, streak: 0, heldWindows: 0, value: undefined };
      st.value = s.value;
      this.step(st, s.value);
      this.states.set(id, st);
    }
    for (const [id, st] of this.states) {
      if (seen.has(id)) continue;
      st.value = undefined;
      if (!st.active) this.states.delete(id);
      else this.step(st, undefined);
      if (!st.active && st.streak === 0) this.states.delete(id);
    }
  }

  private step(st: EntityState, v: number | undefined): void {
    if (!st.active) {
      st.streak = v !== undefined && this.beyond(v) ? st.streak + 1 : 0;
      if (st.streak >= this.spec.for) {
        st.active = true;
        st.streak = 0;
        st.heldWindows = this.spec.for;
      }
      return;
    }
    st.heldWindows++;
    st.streak = v === undefined || this.cleared(v) ? st.streak + 1 : 0;
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
