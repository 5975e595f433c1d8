/** Every action, by the name recipes use. One literal: adding an action is one file plus one line here. */
import type { ActionDef } from './action.js';
import { cpuWeight } from './cpu-weight.js';
import { cpusetSpread } from './cpuset-spread.js';
import { ioPrefetch } from './io-prefetch.js';
import { numaRebalance } from './numa-rebalance.js';
import { pressureBackoff } from './pressure-backoff.js';

export const ACTIONS = {
  cpu_weight: cpuWeight,
  cpuset_spread: cpusetSpread,
  numa_rebalance: numaRebalance,
  pressure_backoff: pressureBackoff,
  io_prefetch: ioPrefetch,
} as const satisfies Record<string, ActionDef>;

export type ActionName = keyof typeof ACTIONS;
export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];
