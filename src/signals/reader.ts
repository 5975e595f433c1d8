/**
 * What every signal reader is: opened for a scope, read once per interval
 * (a delta since the previous read), closed once. The record builders of
 * src/signals/<name>/record.ts turn these deltas into records.
 */
import type { BpfScope, Session } from '../loader/session.js';

/** The processes or cgroup a reader observes (the session scope of the CO-RE objects). */
export type SchedScope = BpfScope;

export interface SignalReader<D> {
  readonly backend: 'bpf' | 'bpftrace';
  /** read() itself waits for the next interval (bpftrace keeps its own clock). */
  readonly selfTimed?: boolean;
  /** Wait for and return the next interval's delta (the first call returns the interval since open). */
  read(): Promise<D>;
  /** Detach and release everything; idempotent. */
  close(): void;
  /** PIDs of helper processes (bpftool, bpftrace), for overhead accounting. */
  helperPids(): number[];
}

export interface BpfOpenOptions {
  /** The session whose shared maps (scope, events) this object uses; a private one when absent. */
  session?: Session;
  /** Emit an event for run-queue waits at least this long (0 or absent: none). */
  outlierNs?: number;
}
