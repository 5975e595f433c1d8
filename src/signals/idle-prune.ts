/**
 * Pruning, from userspace, of per-process maps the kernel side never deletes
 * from (io_procs, net_procs: an entry for every process that ever did block
 * I/O or socket calls). An entry unchanged for `idleReads` reads is deleted
 * through the session's bpftool, so a read dumps the processes active
 * lately, not every one seen since the start. What a process adds between
 * the read that found it idle and the delete (well under a millisecond,
 * after that many idle intervals) is lost; its next activity makes a new
 * entry, which counts from zero.
 */
import type { BpftoolBatch } from '../tools/batch.js';

/** Reads an entry stays unchanged before it is deleted (30 s at the default 1 s interval). */
export const IDLE_READS = 30;

/** Deletes per read at most (one bpftool request each, about 0.1 ms): a backlog goes over several reads. */
export const MAX_DELETES_PER_READ = 256;

export class IdlePruner {
  private lastChange = new Map<string, number>();
  private reads = 0;

  constructor(
    private readonly idleReads = IDLE_READS,
    private readonly maxPerRead = MAX_DELETES_PER_READ,
  ) {}

  /**
   * Note one read: every key it holds, and whether the entry changed since
   * the read before. Returns the keys to delete now (forgotten here).
   */
  step(entries: Iterable<readonly [key: string, changed: boolean]>): string[] {
    this.reads++;
    const seen = new Set<string>();
    for (const [key, changed] of entries) {
      seen.add(key);
      if (changed || !this.lastChange.has(key)) this.lastChange.set(key, this.reads);
    }
    const out: string[] = [];
    for (const [key, at] of this.lastChange) {
      if (!seen.has(key)) this.lastChange.delete(key);
      else if (at + this.idleReads <= this.reads && out.length < this.maxPerRead) {
        out.push(key);
        this.lastChange.delete(key);
      }
    }
    return out;
  }

  get size(): number {
    return this.lastChange.size;
  }
}

/** The bytes of a u32 key, as bpftool's `key hex` takes them. */
export function u32KeyHex(key: number): string[] {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(key >>> 0);
  return [...b].map((x) => x.toString(16).padStart(2, '0'));
}

/** Delete the entries of the u32-keyed map pinned at `pinned` (a key gone already is not an error). */
export async function deleteU32Keys(batch: BpftoolBatch, pinned: string, keys: readonly string[]): Promise<void> {
  for (const k of keys) {
    try {
      await batch.request(['map', 'delete', 'pinned', pinned, 'key', 'hex', ...u32KeyHex(Number(k))]);
    } catch (err) {
      if (!/No such file|not found|ENOENT/i.test(String((err as Error).message))) throw err;
    }
  }
}
