/**
 * Per-interval deltas from cumulative map entries. Kernel entries carry the
 * cycle they were created in: an entry that was deleted and re-created (or
 * is new) counts from zero, so nothing is lost or counted twice.
 */
export interface CumulativeEntry<V> {
  key: string;
  created: string;
  value: V;
}

export class Cumulative<V> {
  private prev = new Map<string, CumulativeEntry<V>>();

  /** Pair each current entry with its previous reading (undefined when new); forget entries that vanished. */
  step(entries: ReadonlyArray<CumulativeEntry<V>>): Array<{ key: string; cur: V; prev: V | undefined }> {
    const next = new Map<string, CumulativeEntry<V>>();
    const out: Array<{ key: string; cur: V; prev: V | undefined }> = [];
    for (const e of entries) {
      const before = this.prev.get(e.key);
      out.push({ key: e.key, cur: e.value, prev: before && before.created === e.created ? before.value : undefined });
      next.set(e.key, e);
    }
    this.prev = next;
    return out;
  }
}

/** cur - prev of a 64-bit counter, as a number (per-interval deltas are far below 2^53). */
export function delta64(cur: bigint, prev: bigint | undefined): number {
  return Number(cur - (prev ?? 0n));
}

/** Two-slot per-interval maxima (bpf/futex.h): the slot a cycle wrote is slot[cycle & 1]. */
export interface MaxSlots {
  value: bigint[];
  cycle: bigint[];
}

export function decodeMaxSlots(value: unknown, cycle: unknown, toBig: (v: unknown) => bigint): MaxSlots {
  return { value: (value as unknown[]).map(toBig), cycle: (cycle as unknown[]).map(toBig) };
}

/** The maximum recorded during `cycle`, or undefined when nothing was. */
export function maxOf(slots: MaxSlots, cycle: bigint): number | undefined {
  const i = Number(cycle & 1n);
  return slots.cycle[i] === cycle ? Number(slots.value[i]) : undefined;
}
