/** The network signal: TCP retransmits, packet drops by reason, socket traffic. */
import type { SignalDef } from '../types.js';

export const net = {
  name: 'net',
  about: 'TCP retransmits, packet drops by reason, socket traffic',
  backends: ['bpf'],
  load: () => import('./source.js'),
  view: async () => (await import('./view.js')).renderNet as never,
} as const satisfies SignalDef;
