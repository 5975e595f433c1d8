/**
 * `tuner run <recipe...>`: detectors on live signals, bounded actions. An
 * audit by default (every action it would take is reported, nothing is
 * written); with `apply`, it acts: originals are journaled before every
 * write, and every change is put back at the end, on Ctrl-C and SIGTERM
 * (and by `tuner revert` after a kill -9). Yields events as they happen.
 */
import { existsSync } from 'node:fs';
import { KernelError, UsageError } from '../errors.js';
import { makeEngines, applicable, runInterval, runScope, warningNotices } from '../engine/setup.js';
import type { RunEvent, SummaryEvent } from '../engine/events.js';
import type { Engine } from '../engine/engine.js';
import { RealHost } from '../host/host.js';
import { Journal, listJournals } from '../journal/journal.js';
import { restoreEntrySync, restoreStale } from '../journal/restore.js';
import { RealIo } from '../knobs/real-io.js';
import { OverlayIo } from '../knobs/sim-io.js';
import { onExit } from '../lifecycle/exit.js';
import { ticks } from '../lifecycle/sleep.js';
import { removeStalePins } from '../loader/stale.js';
import { openAuditLog, type AuditLog } from '../output/audit-log.js';
import { loadRecipes } from '../recipes/load.js';
import { ScopeGuard } from '../scope/guard.js';
import { resolveScope } from '../scope/resolve.js';
import type { BackendChoice } from '../signals/backend.js';
import { openSignals, SIGNALS, type OpenedSignals } from '../signals/open.js';
import type { SignalRecords, Json } from '../detect/samples.js';
import type { StrategyKind } from '../recipes/recipe.js';
import { LearnedStore } from '../strategy/store.js';
import { stopSignal } from '../lifecycle/exit.js';
import { parseChoice, parseDuration, parsePids, parsePositiveInt } from '../options/parse.js';
import { BACKENDS } from '../signals/backend.js';
import type { CommandSpec } from './spec.js';

export interface RunOptions {
  recipes: string[];
  apply: boolean;
  /** Run until stopped. */
  watch?: boolean;
  durationMs?: number;
  intervalMs?: number;
  cgroup?: string;
  pids?: number[];
  auditLog?: string;
  backend: BackendChoice;
  top?: number;
  signal?: AbortSignal;
  /** Overrides the recipes' `strategy`. */
  strategy?: StrategyKind;
  /** The learner's random seed (default: from the clock; printed). */
  seed?: number;
}

const now = (): string => new Date().toISOString();

export async function* run(o: RunOptions): AsyncGenerator<RunEvent> {
  const started = Date.now();
  if (o.watch && o.durationMs !== undefined) throw new UsageError('--watch and --duration cannot be combined: --watch runs until stopped');
  const { recipes: loaded, warnings } = loadRecipes(o.recipes);
  const flags = runScope(loaded, o);
  if (flags.pids) for (const pid of flags.pids) if (!existsSync(`/proc/${pid}`)) throw new UsageError(`scope pid ${pid}: no such process`);
  const scope = resolveScope(flags);
  const host = new RealHost(scope.layout);
  const guard = new ScopeGuard({ cgroup: scope.cgroup?.name, pids: scope.pids }, host);
  const intervalMs = runInterval(loaded, o.intervalMs);
  if (intervalMs < 100) throw new UsageError(`--interval: expected at least 100ms, got ${intervalMs}ms`);
  yield* warningNotices(warnings, now());
  const { recipes, notices } = applicable(loaded, host, now());
  yield* notices;
  if (recipes.length === 0) {
    yield summary([], [], o.apply ? 'apply' : 'audit', 0, started);
    return;
  }
  if (o.apply && guard.cgroup === '/' && recipes.some((r) => r.actions.some((a) => a.name !== 'io_prefetch'))) {
    throw new UsageError(
      '--apply: these recipes change cgroups or processes, so they need a scope: give --cgroup PATH or --pid PID (or scope: in the recipe); tuner never acts on the whole host',
    );
  }
  for (const r of recipes) {
    for (const s of r.signals) {
      if (!(SIGNALS as readonly string[]).includes(s)) {
        throw new KernelError(`recipe ${r.name} (${r.file}) reads the ${s} signal, which this build of tuner does not provide yet`);
      }
    }
  }
  const base = new RealIo();
  const io = o.apply ? base : new OverlayIo(base);
  let journal: Journal | undefined;
  const claims = new Map<string, string>();
  removeStalePins();
  if (o.apply) {
    const { restored } = await restoreStale(base);
    for (const j of restored) for (const out of j.outcomes) yield { type: 'recovered', ts: now(), journal: j.journal, ...out };
    journal = Journal.open();
  } else if (listJournals().some((j) => !j.alive)) {
    yield {
      type: 'notice',
      ts: now(),
      message: 'a tuner that was killed left changed knobs in its journal: run `tuner revert` (or `tuner run --apply`) to put them back',
    };
  }
  for (const j of listJournals())
    if (j.alive && j.data && j.data.owner.pid !== process.pid)
      for (const e of j.data.entries) claims.set(e.id, `tuner pid ${j.data.owner.pid}`);
  const pauseMs = Number(process.env.TUNER_TEST_NUDGE_PAUSE_MS ?? 0) || undefined;
  const learning = recipes.some((r) => (o.strategy ?? r.strategy) === 'learned');
  const seed = o.seed ?? Date.now() % 2 ** 31;
  // An audit writes nothing, not even what the learner learned.
  const choice = { ...(o.strategy ? { strategy: o.strategy } : {}), seed, ...(o.apply ? { store: new LearnedStore() } : {}) };
  const engines = makeEngines(recipes, { host, io, scope: guard, mode: o.apply ? 'apply' : 'audit', journal, claims, pauseMs, choice });
  if (learning) yield { type: 'notice', ts: now(), message: `learned strategy: seed ${seed} (--seed ${seed} repeats its choices)` };
  // Last resort (a second Ctrl-C, or a revert that hangs): put back whatever the journal still holds, synchronously.
  const removeHandler = onExit(() => {
    if (!journal) return;
    for (const e of [...journal.entries()].reverse()) {
      const r = restoreEntrySync(base, e);
      if (r.result === 'restored' || r.result === 'unchanged' || r.result === 'gone' || r.result === 'yielded') journal.forget(e.knob);
    }
    journal.close();
  });
  let audit: AuditLog | undefined;
  let opened: OpenedSignals | undefined;
  let windows = 0;
  try {
    audit = o.auditLog ? openAuditLog(o.auditLog) : undefined;
    const families = [...new Set(recipes.flatMap((r) => r.signals))];
    opened = await openSignals(families, scope, { backend: o.backend, intervalMs, top: o.top ?? 50 });
    const durationMs = o.watch ? undefined : (o.durationMs ?? Math.max(...recipes.map((r) => r.durationMs)));
    for await (const _ of ticks({ intervalMs, durationMs, signal: o.signal })) {
      const records: SignalRecords = {};
      for (const s of opened.sources) records[s.signal as keyof SignalRecords] = (await s.next()) as unknown as Json;
      windows++;
      const w = { ts: Date.now(), records };
      for (const e of engines) {
        for (const ev of await e.tick(w)) {
          audit?.write(ev);
          yield ev;
        }
      }
    }
  } finally {
    opened?.close();
    // Revert before yielding anything: a consumer that stops iterating must not stop the revert.
    const ends: Array<Awaited<ReturnType<Engine['revertAll']>>> = [];
    for (const e of engines) ends.push(await e.revertAll(Date.now()));
    journal?.close();
    removeHandler();
    for (const end of ends) for (const ev of end.events) audit?.write(ev);
    audit?.close();
    for (const end of ends) yield* end.events;
    yield summary(engines, ends, o.apply ? 'apply' : 'audit', windows, started);
  }
}

export function summary(
  engines: readonly Engine[],
  ends: ReadonlyArray<{ reverted: SummaryEvent['recipes'][number]['reverted'] }>,
  mode: SummaryEvent['mode'],
  windows: number,
  started: number,
): SummaryEvent {
  const firsts = engines.map((e) => e.firstChange).filter((t): t is number => t !== undefined);
  return {
    type: 'summary',
    ts: new Date().toISOString(),
    mode,
    windows,
    first_change_ms: firsts.length > 0 ? Math.min(...firsts) - started : null,
    recipes: engines.map((e, i) => ({ recipe: e.recipe.name, changes: e.changes, reverted: ends[i]?.reverted ?? [] })),
  };
}

/** --strategy and --seed of run and replay. */
export function strategyFlags(flags: { strategy?: string; seed?: string }): { strategy?: 'heuristic' | 'learned'; seed?: number } {
  return {
    ...(flags.strategy !== undefined ? { strategy: parseChoice(flags.strategy, ['heuristic', 'learned'] as const, '--strategy') } : {}),
    ...(flags.seed !== undefined ? { seed: parsePositiveInt(flags.seed, '--seed', 2 ** 31 - 1) } : {}),
  };
}

export const command: CommandSpec<RunOptions, RunEvent> = {
  options([files], flags) {
    const f = flags as {
      apply?: boolean;
      watch?: boolean;
      duration?: string;
      interval?: string;
      cgroup?: string;
      pid?: string[];
      auditLog?: string;
      backend: string;
      strategy?: string;
      seed?: string;
    };
    return {
      recipes: files as string[],
      apply: f.apply ?? false,
      watch: f.watch,
      durationMs: f.duration === undefined ? undefined : parseDuration(f.duration, '--duration'),
      intervalMs: f.interval === undefined ? undefined : parseDuration(f.interval, '--interval'),
      cgroup: f.cgroup,
      pids: f.pid === undefined ? undefined : parsePids(f.pid),
      auditLog: f.auditLog,
      backend: parseChoice(f.backend, BACKENDS, '--backend'),
      signal: stopSignal,
      ...strategyFlags(f),
    };
  },
  run,
  output: {
    async view(o) {
      const { renderEvent } = await import('../output/run-view.js');
      return (e) => renderEvent(e, o.apply ? 'apply' : 'audit') + '\n';
    },
  },
};
