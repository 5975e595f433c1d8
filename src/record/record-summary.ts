/**
 * Signals without a raw reader in `record` (PSI, and any signal added later)
 * are summarised from their record source: `record` reads one record per run,
 * whose interval is the whole run. A signal whose definition names a summary
 * (PSI) gets named metrics; any other contributes its top-level numbers.
 */
import { signalDef } from '../signals/registry.js';
import type { SignalSummary } from './summary.js';

type Json = Record<string, unknown>;

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

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
export async function summariseRecord(record: unknown): Promise<SignalSummary> {
  const r = record as Json;
  const how = signalDef(String(r.signal))?.record;
  return how?.kind === 'record' ? (await how.summarise())(record) : summariseGeneric(r);
}
