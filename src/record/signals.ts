/** The signals `record` summarises per run, and the check of `--signals`. */
import { UsageError } from '../errors.js';
import { SIGNALS, signalsWith } from '../signals/registry.js';

/** Signals `record` summarises per run, in the order it opens them (the rest of SIGNALS are live-only views). */
export const RECORD_SIGNALS: readonly string[] = signalsWith('record');

/** The record signals this build has. */
export function recordableSignals(available: readonly string[] = SIGNALS): string[] {
  return RECORD_SIGNALS.filter((s) => available.includes(s));
}

/** `--signals` values: signals record summarises, available in this build, deduplicated. */
export function checkSignals(requested: readonly string[], available: readonly string[] = SIGNALS): string[] {
  const usable = recordableSignals(available);
  const out: string[] = [];
  for (const s of requested
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (!usable.includes(s)) {
      const why = RECORD_SIGNALS.includes(s)
        ? `is not available in this tuner yet`
        : available.includes(s)
          ? 'is a live view that record does not summarise'
          : 'is not a signal tuner knows';
      throw new UsageError(`--signals: ${JSON.stringify(s)} ${why} (record can use: ${usable.join(', ')})`);
    }
    if (!out.includes(s)) out.push(s);
  }
  if (out.length === 0 && requested.length > 0) throw new UsageError('--signals: expected at least one signal');
  return out;
}
