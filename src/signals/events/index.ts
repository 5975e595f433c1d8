/** The event feed: run-queue, futex and I/O outliers, exec and exit, as they happen. */
import type { SignalDef } from '../types.js';

export const events = {
  name: 'events',
  about: 'outliers (run-queue, futex, I/O), exec and exit, as they happen',
  backends: ['bpf'],
  needsSession: true,
  load: () => import('./source.js'),
  view: async () => (await import('./view.js')).renderEvents as never,
} as const satisfies SignalDef;
