/** The pressure signal: PSI stall time of CPU, memory and I/O, host-wide and per cgroup. */
import type { SignalDef } from '../types.js';

export const psi = {
  name: 'psi',
  about: 'pressure stall information (CPU, memory, I/O), host-wide and per cgroup',
  backends: ['procfs'],
  inAll: true,
  record: { kind: 'record', summarise: async () => (await import('./summary.js')).summarise },
  load: () => import('./source.js'),
  view: async () => (await import('./view.js')).renderPsi as never,
} as const satisfies SignalDef;
