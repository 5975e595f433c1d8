/** The block I/O signal: request latency per disk, I/O wait per submitting process. */
import type { SignalDef } from '../types.js';

export const io = {
  name: 'io',
  about: 'block I/O latency per disk and I/O wait per process',
  backends: ['bpf'],
  inAll: true,
  producesEvents: true,
  diagnose: true,
  record: { kind: 'raw', totals: async () => (await import('./summary.js')).runTotals as never },
  load: () => import('./source.js'),
  view: async () => (await import('./view.js')).renderIo as never,
} as const satisfies SignalDef;
