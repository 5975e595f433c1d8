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
 * cgroup in the record, i.e. of the scope), for processes wait_share. The
 * value of `field` for one element, computed without copying it (this runs
 * for every element of every window, for each detector and objective): the
 * totals it needs come from `totals`, computed once per record.
 */
interface Totals {
  capacityNs: number;
  cgroupOncpuNs: number;
}

function totalsOf(record: Json): Totals {
  const cpus = Array.isArray(record.cpus) && record.cpus.length > 0 ? record.cpus.length : 1;
  const list = Array.isArray(record.cgroups) ? (record.cgroups as Json[]) : [];
  let cgroupOncpuNs = 0;
  for (const c of list) if (typeof c?.oncpu_ns === 'number') cgroupOncpuNs += c.oncpu_ns;
  return { capacityNs: (typeof record.interval_ms === 'number' ? record.interval_ms : 0) * 1e6 * cpus, cgroupOncpuNs };
}

function derivedValue(collection: string, el: Json, field: readonly string[], totals: Totals): unknown {
  if (field.length === 1) {
    const f = field[0];
    if (f === 'machine_share') return share(el.oncpu_ns, totals.capacityNs);
    if (f === 'cpu_share' && collection === 'cgroups') return share(el.oncpu_ns, totals.cgroupOncpuNs);
    if (f === 'wait_share' && collection === 'procs' && typeof el.runq_wait_ns === 'number' && typeof el.oncpu_ns === 'number')
      return share(el.runq_wait_ns, el.runq_wait_ns + el.oncpu_ns) ?? 0;
  }
  return dig(el, field);
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
  const withDerived = p.family === 'sched' && (p.collection === 'cgroups' || p.collection === 'procs');
  const totals = withDerived ? totalsOf(record) : undefined;
  const out: Sample[] = [];
  for (const raw of list) {
    if (raw === null || typeof raw !== 'object') continue;
    const el = raw as Json;
    const key = el[keyField];
    const v = totals ? derivedValue(p.collection, el, p.field, totals) : dig(el, p.field);
    if ((typeof key === 'string' || typeof key === 'number') && typeof v === 'number' && Number.isFinite(v)) {
      out.push({ entity: { kind: p.entity, key: String(key) }, value: v });
    }
  }
  return out;
}
