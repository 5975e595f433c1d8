/** The futex signal: lock waits and wakes per process and per futex word. */
import type { SignalDef } from '../types.js';

export const futex = {
  name: 'futex',
  about: 'futex (lock) waits per process and per lock word',
  backends: ['bpf'],
  inAll: true,
  producesEvents: true,
  diagnose: true,
  record: { kind: 'raw', totals: async () => (await import('./summary.js')).runTotals as never },
  load: () => import('./source.js'),
  view: async () => (await import('./view.js')).renderFutex as never,
} as const satisfies SignalDef;
