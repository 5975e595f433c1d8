/**
 * The always-on agent: the signals its recipes and metrics need, read at one
 * interval; every recipe of a directory run by the same engine `tuner run`
 * uses; metrics, health and readiness over HTTP; a reload on SIGHUP that
 * validates everything before it replaces anything; every change reverted
 * on SIGTERM/SIGINT. Returns what it did when it stops.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { detectLayout } from '../cgroup/layout.js';
import type { Engine } from '../engine/engine.js';
import type { RunEvent } from '../engine/events.js';
import { messageOf } from '../errors.js';
import { RealHost } from '../host/host.js';
import { Journal, listJournals } from '../journal/journal.js';
import { restoreEntrySync, restoreStale } from '../journal/restore.js';
import { RealIo } from '../knobs/real-io.js';
import { OverlayIo } from '../knobs/sim-io.js';
import { onExit, onHangup } from '../lifecycle/exit.js';
import { ticks } from '../lifecycle/sleep.js';
import { removeStalePins } from '../loader/stale.js';
import { AgentMetrics } from '../metrics/agent-metrics.js';
import { resolveScope } from '../scope/resolve.js';
import type { FutexDelta, FutexRecord } from '../signals/futex/record.js';
import type { IoRecord } from '../signals/io/record.js';
import type { NetRecord } from '../signals/net/record.js';
import { openSignals as openSources, type OpenedSignals as OpenedSources, type SignalName } from '../signals/open.js';
import type { PsiRecord } from '../signals/psi/record.js';
import type { SchedDelta, SchedRecord } from '../signals/sched/record.js';
import type { Json, SignalRecords } from '../detect/samples.js';
import { loadAgentConfig, parseListen, type AgentConfig } from './config.js';
import { LearnedStore } from '../strategy/store.js';
import { serveAgent } from './http.js';
import { recordsInScope, type RecordScope } from './scope-records.js';
import { agentLogger, logEvent, type Logger } from './log.js';
import { loadRecipeSet, signalsFor, startEngines, type EngineContext, type LoadedSet } from './recipe-set.js';
import { systemdNotifier } from './systemd.js';

export const AGENT_VERSION = '0.1.0';

export interface AgentOptions {
  config?: string;
  recipes?: string;
  metricsListen?: string;
  signal: AbortSignal;
  /** Where the JSON log goes (default stdout). */
  log?: Logger;
}

export interface AgentSummary {
  intervals: number;
  reloads: { ok: number; refused: number };
  reverted: number;
}

/** The config, with the command line's overrides. */
export function effectiveConfig(o: Pick<AgentOptions, 'config' | 'recipes' | 'metricsListen'>): AgentConfig {
  const cfg = loadAgentConfig(o.config);
  if (o.recipes !== undefined) cfg.recipesDir = o.recipes;
  if (o.metricsListen !== undefined) cfg.listen = parseListen(o.metricsListen, '--metrics-listen');
  return cfg;
}

export async function runAgent(o: AgentOptions): Promise<AgentSummary> {
  // Everything the user gave is checked before anything is started (exit 2, nothing applied).
  let cfg = effectiveConfig(o);
  const layout = detectLayout();
  const host = new RealHost(layout);
  let set: LoadedSet = loadRecipeSet(cfg.recipesDir, host, layout);
  const log = o.log ?? agentLogger(cfg.logLevel);
  const scope = resolveScope({}, layout);
  const summary: AgentSummary = { intervals: 0, reloads: { ok: 0, refused: 0 }, reverted: 0 };

  removeStalePins();
  const realIo = new RealIo();
  let journal: Journal | undefined;
  if (set.recipes.some((r) => r.apply)) {
    for (const j of (await restoreStale(realIo)).restored)
      for (const out of j.outcomes)
        log.warn({ event: 'recovered', journal: j.journal, ...out }, `restored ${out.knob} from the journal of a tuner that was killed`);
  }
  const claims = new Map<string, string>();
  for (const j of listJournals())
    if (j.alive && j.data && j.data.owner.pid !== process.pid)
      for (const e of j.data.entries) claims.set(e.id, `tuner pid ${j.data.owner.pid}`);
  const ctx: EngineContext = {
    host,
    layout,
    realIo,
    auditIo: new OverlayIo(realIo),
    journal: () => (journal ??= Journal.open()),
    claims,
    auditClaims: new Map(claims),
    choice: { ...(cfg.strategy ? { strategy: cfg.strategy } : {}), seed: Date.now() % 2 ** 31, store: new LearnedStore() },
  };
  // Last resort (a second signal, or a revert that hangs): put back what the journal still holds, synchronously.
  const removeExitHandler = onExit(() => {
    if (!journal) return;
    for (const e of [...journal.entries()].reverse()) {
      const r = restoreEntrySync(realIo, e);
      if (r.result !== 'failed') journal.forget(e.knob);
    }
    journal.close();
  });

  let sources: OpenedSources | undefined;
  let openSignals: SignalName[] = [];
  const deltas: { sched?: SchedDelta; futex?: FutexDelta } = {};
  const metrics = new AgentMetrics({
    cgroups: cfg.cgroups,
    cgroupExists: (cg) => layout.cpu !== undefined && existsSync(layout.cpu.mountPoint + (cg === '/' ? '' : cg)),
    helperPids: () => (sources ? [...sources.sources, ...sources.producers].flatMap((s) => s.helperPids()) : []),
    version: AGENT_VERSION,
  });
  const emit = (ev: RunEvent): void => {
    logEvent(log, ev);
    metrics.event(ev);
  };
  for (const n of set.notices) emit(n);

  const started = Date.now();
  let lastTick: number | undefined;
  let stopping = false;
  const server: Server = await serveAgent(cfg.listen, () => metrics.exposition(), {
    live: () => {
      const since = Date.now() - (lastTick ?? started);
      const limit = 3 * cfg.intervalMs + 10_000;
      return since <= limit
        ? { ok: true, detail: lastTick ? `last interval ${since} ms ago` : 'starting' }
        : { ok: false, detail: `no interval completed for ${since} ms` };
    },
    ready: () =>
      stopping
        ? { ok: false, detail: 'stopping' }
        : lastTick
          ? { ok: true, detail: `${set.recipes.length} recipes, signals ${openSignals.join(',')}` }
          : { ok: false, detail: 'opening signals' },
  });
  const notifier = systemdNotifier(process.env, (m) => log.warn({ event: 'systemd' }, m));

  const open = async (signals: SignalName[]): Promise<void> => {
    sources?.close();
    sources = undefined;
    sources = await openSources(signals, scope, {
      backend: cfg.backend,
      intervalMs: cfg.intervalMs,
      top: 50,
      onDelta: (s, d) => {
        if (s === 'sched') deltas.sched = d as SchedDelta;
        else if (s === 'futex') deltas.futex = d as FutexDelta;
      },
      warn: (m) => log.warn({ event: 'notice' }, m),
    });
    openSignals = signals;
  };
  const endEngines = async (engines: readonly Engine[]): Promise<void> => {
    for (const e of engines) {
      const end = await e.revertAll(Date.now());
      for (const ev of end.events) emit(ev);
      if (e.recipe.apply) summary.reverted += end.reverted.filter((r) => r.result === 'restored').length;
    }
  };

  let engines: Engine[] = [];
  // Each recipe is judged on its own scope's cgroups and processes (resolved once per engine).
  const scopes = new WeakMap<Engine, RecordScope>();
  const scopeOf = (e: Engine): RecordScope => {
    let sc = scopes.get(e);
    if (!sc) {
      const r = resolveScope(e.recipe.scope ?? {}, layout);
      sc = { cgroup: r.cgroup?.name, pids: r.pids };
      scopes.set(e, sc);
    }
    return sc;
  };
  let reloadWanted = false;
  const removeHangup = onHangup(() => {
    reloadWanted = true;
    log.info({ event: 'reload' }, 'SIGHUP: reloading at the end of this interval');
  });
  let watchdog: NodeJS.Timeout | undefined;
  try {
    await open(signalsFor(set.recipes, cfg.signals));
    engines = startEngines(set.recipes, ctx);
    const countModes = (): void =>
      metrics.recipesRunning(set.recipes.filter((r) => r.apply).length, set.recipes.filter((r) => !r.apply).length);
    countModes();
    log.info(
      {
        event: 'start',
        recipes: set.recipes.map((r) => ({ name: r.name, file: r.file, mode: r.apply ? 'apply' : 'audit' })),
        signals: openSignals,
        listen: `${cfg.listen.host}:${cfg.listen.port}`,
        interval_ms: cfg.intervalMs,
        backend: sources!.sources[0]?.backend,
      },
      `agent started: ${set.recipes.length} recipes, signals ${openSignals.join(', ')}`,
    );
    if (notifier.watchdogMs) {
      watchdog = setInterval(() => {
        // Only a loop that still completes intervals pets the watchdog.
        if (lastTick !== undefined && Date.now() - lastTick <= Math.max(3 * cfg.intervalMs, notifier.watchdogMs!))
          void notifier.notify('WATCHDOG=1');
      }, notifier.watchdogMs / 2);
    }

    for await (const _ of ticks({ intervalMs: cfg.intervalMs, signal: o.signal })) {
      const t0 = performance.now();
      const records: SignalRecords = {};
      for (const s of sources!.producers) await s.next();
      for (const s of sources!.sources) {
        const rec = await s.next();
        records[s.signal as keyof SignalRecords] = rec as unknown as Json;
        const now = Date.now();
        if (s.signal === 'sched') metrics.sched(rec as SchedRecord, deltas.sched, now);
        else if (s.signal === 'futex') metrics.futex(rec as FutexRecord, deltas.futex);
        else if (s.signal === 'psi') metrics.psi(rec as PsiRecord);
        else if (s.signal === 'io') metrics.io(rec as IoRecord);
        else if (s.signal === 'net') metrics.net(rec as NetRecord);
      }
      deltas.sched = deltas.futex = undefined;
      const ts = Date.now();
      for (const e of engines) for (const ev of await e.tick({ ts, records: recordsInScope(records, scopeOf(e)) })) emit(ev);
      metrics.interval((performance.now() - t0) / 1000);
      summary.intervals++;
      if (lastTick === undefined) void notifier.notify('READY=1', `STATUS=${set.recipes.length} recipes, signals ${openSignals.join(',')}`);
      lastTick = Date.now();

      if (reloadWanted) {
        reloadWanted = false;
        void notifier.notify('RELOADING=1');
        try {
          const next = effectiveConfig(o);
          const nextSet = loadRecipeSet(next.recipesDir, host, layout);
          for (const key of ['intervalMs', 'backend', 'listen', 'cgroups'] as const) {
            if (JSON.stringify(next[key]) !== JSON.stringify(cfg[key]))
              log.warn({ event: 'reload', key }, `config ${key} changed: it takes effect at the next restart`);
          }
          const wanted = signalsFor(nextSet.recipes, next.signals);
          await endEngines(engines);
          engines = [];
          if (JSON.stringify([...wanted].sort()) !== JSON.stringify([...openSignals].sort())) await open(wanted);
          ctx.choice = { ...ctx.choice!, strategy: next.strategy };
          engines = startEngines(nextSet.recipes, ctx);
          cfg = { ...next, intervalMs: cfg.intervalMs, backend: cfg.backend, listen: cfg.listen, cgroups: cfg.cgroups };
          set = nextSet;
          for (const n of set.notices) emit(n);
          countModes();
          summary.reloads.ok++;
          metrics.reloads.inc({ result: 'ok' });
          log.info(
            {
              event: 'reload',
              result: 'ok',
              recipes: set.recipes.map((r) => ({ name: r.name, mode: r.apply ? 'apply' : 'audit' })),
              signals: openSignals,
            },
            `reloaded: ${set.recipes.length} recipes`,
          );
        } catch (err) {
          summary.reloads.refused++;
          metrics.reloads.inc({ result: 'error' });
          log.error(
            { event: 'reload', result: 'refused', error: messageOf(err) },
            `reload refused, the running recipes stay: ${messageOf(err)}`,
          );
          // Validation happens before anything stops; if opening the new signals failed, the old set starts again.
          if (!sources) await open(openSignals);
          if (engines.length === 0 && set.recipes.length > 0) engines = startEngines(set.recipes, ctx);
        }
        void notifier.notify('READY=1');
      }
    }
  } finally {
    stopping = true;
    if (watchdog) clearInterval(watchdog);
    removeHangup();
    void notifier.notify('STOPPING=1');
    await endEngines(engines);
    sources?.close();
    journal?.close();
    removeExitHandler();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    log.info({ event: 'stop', ...summary }, `agent stopped: ${summary.intervals} intervals, ${summary.reverted} knobs restored`);
  }
  return summary;
}
