/**
 * Every signal tuner has, in the order commands list and open them. Adding a
 * signal is a folder src/signals/<name>/ (index.ts: its definition) and one
 * line here; watch, run, diagnose, record and the views read this table.
 */
import { events } from './events/index.js';
import { futex } from './futex/index.js';
import { io } from './io/index.js';
import { net } from './net/index.js';
import { numa } from './numa/index.js';
import { psi } from './psi/index.js';
import { sched } from './sched/index.js';
import type { SignalDef } from './types.js';

export const SIGNAL_DEFS = [sched, futex, io, net, psi, numa, events] as const satisfies readonly SignalDef[];

export type SignalName = (typeof SIGNAL_DEFS)[number]['name'];

export const SIGNALS: readonly SignalName[] = SIGNAL_DEFS.map((d) => d.name);

const BY_NAME = new Map<string, SignalDef>(SIGNAL_DEFS.map((d) => [d.name, d]));

/** The definition of a signal, or undefined for a name tuner does not know. */
export function signalDef(name: string): SignalDef | undefined {
  return BY_NAME.get(name);
}

/** The signals whose definitions have `flag` set, in table order. */
export function signalsWith(flag: 'inAll' | 'producesEvents' | 'diagnose' | 'record'): SignalName[] {
  return SIGNAL_DEFS.filter((d: SignalDef) => d[flag] !== undefined && d[flag] !== false).map((d) => d.name);
}
