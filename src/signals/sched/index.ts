/** The scheduler signal: run-queue wait, context switches and on-CPU time per process, cgroup and CPU. */
import type { SignalDef } from '../types.js';

export const sched = {
  name: 'sched',
  about: 'run-queue wait, context switches and CPU time per process, cgroup and CPU',
  backends: ['bpf', 'bpftrace'],
  inAll: true,
  producesEvents: true,
  diagnose: true,
  sessionPreload: 'sched',
  record: { kind: 'raw', totals: async () => (await import('./summary.js')).runTotals as never },
  load: () => import('./source.js'),
  view: async () => (await import('./view.js')).renderSched as never,
} as const satisfies SignalDef;
