/** Terminal views by signal: one screen per interval, all signals of the interval in order. */
import type { AnyRecord } from '../signals/open.js';
import { signalDef } from '../signals/registry.js';

/** The renderer of a screen of records of these signals (each signal's view is loaded once, here). */
export async function loadViews(signals: readonly string[]): Promise<(records: AnyRecord[]) => string> {
  const views = new Map<string, (r: AnyRecord) => string>();
  for (const s of signals) {
    const def = signalDef(s);
    if (def) views.set(s, (await def.view()) as (r: AnyRecord) => string);
  }
  return (records) => records.map((r) => views.get(r.signal)!(r)).join('\n\n');
}
