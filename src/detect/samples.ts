/**
 * Values of a signal path in one window's records: one sample for a
 * scope-wide path, one per element for a per-entity path. Records are the
 * JSON objects `watch --json` prints (live records and replayed feeds are
 * read the same way); non-numeric or missing values give no sample.
 */
import { COLLECTIONS, parsePath, type Entity, type SignalFamily } from './paths.js';

export type Json = Record<string, unknown>;

/** One window: the latest record of each signal. */
export type SignalRecords = Partial<Record<SignalFamily, Json>>;

export interface Sample {
  entity: Entity;
  value: number;
}

function dig(obj: unknown, field: readonly string[]): unknown {
  let v = obj;
  for (const f of field) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Json)[f];
  }
  return v;
}

const share = (part: unknown, whole: number): number | undefined =>
  typeof part === 'number' && whole > 0 ? Math.round((part / whole) * 1e4) / 1e4 : undefined;

/**
 * Derived per-element fields (documented in paths.ts): machine_share (of all
 * CPUs over the interval), for cgroups cpu_share (of the on-CPU time of every
 * cgroup in the record, i.e. of the scope), for processes wait_share.
 */
function derived(family: SignalFamily, collection: string, el: Json, record: Json): Json {
  if (family !== 'sched' || (collection !== 'cgroups' && collection !== 'procs')) return el;
  const cpus = Array.isArray(record.cpus) && record.cpus.length > 0 ? record.cpus.length : 1;
  const capacityNs = (typeof record.interval_ms === 'number' ? record.interval_ms : 0) * 1e6 * cpus;
  const out: Json = { ...el, machine_share: share(el.oncpu_ns, capacityNs) };
  if (collection === 'cgroups') {
    const list = Array.isArray(record.cgroups) ? (record.cgroups as Json[]) : [];
    const total = list.reduce((s, c) => s + (typeof c?.oncpu_ns === 'number' ? c.oncpu_ns : 0), 0);
    out.cpu_share = share(el.oncpu_ns, total);
  }
  if (collection === 'procs' && typeof el.runq_wait_ns === 'number' && typeof el.oncpu_ns === 'number') {
    out.wait_share = share(el.runq_wait_ns, el.runq_wait_ns + el.oncpu_ns) ?? 0;
  }
  return out;
}

export function samplesOf(signalPath: string, records: SignalRecords): Sample[] {
  const p = parsePath(signalPath);
  const record = records[p.family];
  if (!record) return [];
  if (!p.collection) {
    const v = dig(record, p.field);
    return typeof v === 'number' && Number.isFinite(v) ? [{ entity: { kind: 'scope', key: 'scope' }, value: v }] : [];
  }
  const list = record[p.collection];
  if (!Array.isArray(list)) return [];
  const keyField = COLLECTIONS[p.family][p.collection]!.key;
  const out: Sample[] = [];
  for (const raw of list) {
    if (raw === null || typeof raw !== 'object') continue;
    const el = derived(p.family, p.collection, raw as Json, record);
    const key = el[keyField];
    const v = dig(el, p.field);
    if ((typeof key === 'string' || typeof key === 'number') && typeof v === 'number' && Number.isFinite(v)) {
      out.push({ entity: { kind: p.entity, key: String(key) }, value: v });
    }
  }
  return out;
}
