/** The record `watch psi --json` prints, from two PSI readings. */
import type { Pressure, PsiResource } from '../../procfs/pressure.js';
import type { PsiDelta } from './procfs.js';

export interface PsiResourceRecord {
  some_avg10: number;
  some_avg60: number;
  /** Stall time in the interval, µs, and as a share of the interval. */
  some_total_us: number;
  some_pct: number;
  full_avg10?: number;
  full_avg60?: number;
  full_total_us?: number;
  full_pct?: number;
}

export interface PsiRecord {
  signal: 'psi';
  ts: string;
  interval_ms: number;
  cpu: PsiResourceRecord | null;
  memory: PsiResourceRecord | null;
  io: PsiResourceRecord | null;
  cgroups: Array<{ cgroup: string; cpu: PsiResourceRecord | null; memory: PsiResourceRecord | null; io: PsiResourceRecord | null }>;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

function resource(cur: Pressure | undefined, prev: Pressure | undefined, intervalNs: number): PsiResourceRecord | null {
  if (!cur) return null;
  const us = intervalNs / 1000;
  const someUs = prev ? Math.max(0, cur.some.total - prev.some.total) : 0;
  const rec: PsiResourceRecord = {
    some_avg10: cur.some.avg10,
    some_avg60: cur.some.avg60,
    some_total_us: someUs,
    some_pct: us > 0 ? r2((100 * someUs) / us) : 0,
  };
  if (cur.full) {
    const fullUs = prev?.full ? Math.max(0, cur.full.total - prev.full.total) : 0;
    rec.full_avg10 = cur.full.avg10;
    rec.full_avg60 = cur.full.avg60;
    rec.full_total_us = fullUs;
    rec.full_pct = us > 0 ? r2((100 * fullUs) / us) : 0;
  }
  return rec;
}

const pick = (
  cur: Partial<Record<PsiResource, Pressure>>,
  prev: Partial<Record<PsiResource, Pressure>> | undefined,
  ns: number,
): Record<PsiResource, PsiResourceRecord | null> => ({
  cpu: resource(cur.cpu, prev?.cpu, ns),
  memory: resource(cur.memory, prev?.memory, ns),
  io: resource(cur.io, prev?.io, ns),
});

export function buildPsiRecord(d: PsiDelta, now: Date): PsiRecord {
  const prevCg = new Map(d.prev.cgroups.map((c) => [c.cgroup, c.pressure]));
  return {
    signal: 'psi',
    ts: now.toISOString(),
    interval_ms: Math.round(d.intervalNs / 1e5) / 10,
    ...pick(d.cur.system, d.prev.system, d.intervalNs),
    cgroups: d.cur.cgroups
      .filter((c) => Object.keys(c.pressure).length > 0)
      .map((c) => ({ cgroup: c.cgroup, ...pick(c.pressure, prevCg.get(c.cgroup), d.intervalNs) })),
  };
}
