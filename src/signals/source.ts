/**
 * What every signal's source.ts builds on: a reader and its record builder
 * made into a record source, and the options the per-process record
 * builders share (names of cgroups and processes, the kept processes).
 */
import { CgroupNames } from '../cgroup/names.js';
import { commOf } from '../procfs/pid.js';
import type { SignalReader } from './reader.js';
import type { RecordSource, SourceBackend, SourceContext } from './types.js';

/** The source of `signal`: each next() reads the reader's delta and builds its record. */
export function readerSource<D, R>(
  signal: string,
  ctx: Pick<SourceContext, 'reason' | 'onDelta'>,
  reader: SignalReader<D>,
  build: (delta: D) => R,
  backend: SourceBackend = reader.backend,
): RecordSource<R> {
  return {
    signal,
    backend,
    reason: ctx.reason,
    selfTimed: reader.selfTimed,
    raw: reader as SignalReader<unknown>,
    helperPids: () => reader.helperPids(),
    close: () => reader.close(),
    async next() {
      const delta = await reader.read();
      ctx.onDelta?.(signal, delta);
      return build(delta);
    },
  };
}

/** Options of the per-process record builders: which processes are kept and how they and their cgroups are named. */
export function processNaming(ctx: Pick<SourceContext, 'scope' | 'top' | 'followChildren'>) {
  const names = new CgroupNames(ctx.scope.layout.cpu);
  return {
    top: ctx.top,
    pids: ctx.followChildren ? undefined : ctx.scope.pids,
    cgroupName: (id: string) => names.name(id),
    commOf,
  };
}

/** The CO-RE readers' scope: the scope's processes or cgroup, and whether children are followed. */
export function bpfScope(ctx: Pick<SourceContext, 'scope' | 'followChildren'>) {
  return { pids: ctx.scope.pids, cgroup: ctx.scope.cgroup, followChildren: ctx.followChildren };
}
