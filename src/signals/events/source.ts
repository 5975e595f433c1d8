/** The event feed opened as records: the session's perf event array, one record per interval. */
import type { RecordSource, SourceContext } from '../types.js';
import { openEvents, type EventsRecord } from './bpf.js';

export async function openSource(ctx: SourceContext): Promise<RecordSource<EventsRecord>> {
  if (!ctx.session) throw new Error('the events signal needs a session: open it with openSignals');
  const reader = await openEvents(ctx.session);
  return {
    signal: 'events',
    backend: 'bpf',
    reason: ctx.reason,
    helperPids: () => reader.helperPids(),
    close: () => reader.close(),
    next: () => reader.next(),
  };
}
