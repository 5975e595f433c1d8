/**
 * Pressure stall information, system-wide and per cgroup (cgroup v2 only:
 * on hybrid hosts the unified tree still has every *.pressure file). No BPF:
 * the kernel keeps these counters; we read them and take per-interval deltas
 * of the cumulative `total` stall times.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { readPressure, PSI_RESOURCES, type Pressure, type PsiResource } from '../../procfs/pressure.js';
import type { SignalReader } from '../reader.js';

export interface PsiSnapshot {
  system: Partial<Record<PsiResource, Pressure>>;
  cgroups: Array<{ cgroup: string; pressure: Partial<Record<PsiResource, Pressure>> }>;
}

export interface PsiDelta {
  intervalNs: number;
  cur: PsiSnapshot;
  prev: PsiSnapshot;
}

export interface PsiScope {
  /** The unified hierarchy's mount point, for per-cgroup pressure. */
  unifiedRoot?: string;
  /** Cgroups (paths relative to unifiedRoot) whose pressure is reported. */
  cgroups: string[];
}

function readAll(dir: string): Partial<Record<PsiResource, Pressure>> {
  const out: Partial<Record<PsiResource, Pressure>> = {};
  for (const r of PSI_RESOURCES) {
    const p = readPressure(path.join(dir, `${r}.pressure`));
    if (p) out[r] = p;
  }
  return out;
}

export function readPsi(scope: PsiScope, procRoot = '/proc/pressure'): PsiSnapshot {
  const system: Partial<Record<PsiResource, Pressure>> = {};
  for (const r of PSI_RESOURCES) {
    const p = readPressure(path.join(procRoot, r));
    if (p) system[r] = p;
  }
  const cgroups = scope.unifiedRoot
    ? scope.cgroups.map((cg) => ({ cgroup: cg, pressure: readAll(path.join(scope.unifiedRoot!, cg)) }))
    : [];
  return { system, cgroups };
}

/** The cgroups `watch psi` reports by default: the given one and its children, or the top level. */
export function defaultPsiCgroups(unifiedRoot: string, under = '/'): string[] {
  const base = path.join(unifiedRoot, under);
  const out = [under];
  try {
    for (const e of readdirSync(base, { withFileTypes: true })) if (e.isDirectory()) out.push(path.posix.join(under, e.name));
  } catch {
    /* vanished */
  }
  return out;
}

export function openPsi(scope: PsiScope, procRoot = '/proc/pressure'): SignalReader<PsiDelta> {
  let prev = readPsi(scope, procRoot);
  let last = process.hrtime.bigint();
  return {
    backend: 'bpf',
    helperPids: () => [],
    close: () => {},
    async read() {
      const cur = readPsi(scope, procRoot);
      const now = process.hrtime.bigint();
      const d: PsiDelta = { intervalNs: Number(now - last), cur, prev };
      prev = cur;
      last = now;
      return d;
    },
  };
}
