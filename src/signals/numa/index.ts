/** The NUMA signal: per-node memory, page placement and migrations. */
import type { SignalDef } from '../types.js';

export const numa = {
  name: 'numa',
  about: 'NUMA node memory, page placement and migrations',
  backends: ['procfs'],
  load: () => import('./source.js'),
  view: async () => (await import('./view.js')).renderNuma as never,
} as const satisfies SignalDef;
