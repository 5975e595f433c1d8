/**
 * Signals without a raw reader in `record` (PSI, and any signal added later)
 * are summarised from their record source: `record` reads one record per run,
 * whose interval is the whole run. PSI gets named metrics; a signal tuner
 * does not know yet contributes its top-level numbers.
 */
import type { SignalSummary } from './summary.js';

type Json = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

function summarisePsi(r: Json): SignalSummary {
  const metrics: SignalSummary['metrics'] = {};
  const details: SignalSummary['details'] = {};
  for (const res of ['cpu', 'memory', 'io'] as const) {
    const v = r[res] as Json | null | undefined;
    metrics[`psi.${res}_some_us`] = v ? num(v.some_total_us) : null;
    if (v && typeof v.full_total_us === 'number') details[`psi.${res}_full_us`] = v.full_total_us;
  }
  // The workload's own cgroup (unified hierarchy), when it has pressure files.
  for (const cg of arr(r.cgroups)) {
    for (const res of ['cpu', 'memory', 'io'] as const) {
      const v = cg[res] as Json | null | undefined;
      if (v) details[`psi.cgroup.${res}_some_us`] = num(v.some_total_us);
    }
    details['psi.cgroup'] = cg.cgroup;
    break;
  }
  return { metrics, details, warnings: [] };
}

/** Any other signal: its top-level numbers and the numbers of its top-level objects, named `<signal>.<path>`. */
export function summariseGeneric(r: Json): SignalSummary {
  const signal = String(r.signal);
  const metrics: SignalSummary['metrics'] = {};
  const walk = (v: unknown, path: string, depth: number): void => {
    if (typeof v === 'number') metrics[`${signal}.${path}`] = numOrNull(v);
    else if (v && typeof v === 'object' && !Array.isArray(v) && depth < 2) {
      for (const [k, x] of Object.entries(v as Json)) walk(x, path ? `${path}.${k}` : k, depth + 1);
    }
  };
  for (const [k, v] of Object.entries(r)) if (k !== 'interval_ms' && k !== 'ts') walk(v, k, 0);
  return { metrics, details: {}, warnings: [] };
}

/** The summary of one whole-run record of `signal`. */
export function summariseRecord(record: unknown): SignalSummary {
  const r = record as Json;
  switch (r.signal) {
    case 'psi':
      return summarisePsi(r);
    default:
      return summariseGeneric(r);
  }
}
