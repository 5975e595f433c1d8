/**
 * `tuner replay <feed.ndjson> <recipe...>`: run recipes against records a
 * `tuner watch ... --json` recorded, on a simulated host (cgroup v2 at
 * /sys/fs/cgroup, knobs at their kernel defaults or `--assume` values). It
 * reads nothing from the machine it runs on and touches nothing; the same
 * feed always gives the same decisions at the same (recorded) times.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { applicable, makeEngines, runScope, warningNotices } from '../engine/setup.js';
import type { RunEvent } from '../engine/events.js';
import type { Engine } from '../engine/engine.js';
import { normalizeCgroupName, SimHost } from '../host/host.js';
import { SimIo } from '../knobs/sim-io.js';
import { loadRecipes } from '../recipes/load.js';
import { ScopeGuard } from '../scope/guard.js';
import { COLLECTIONS, SIGNAL_FAMILIES, type SignalFamily } from '../detect/paths.js';
import type { Json, SignalRecords } from '../detect/samples.js';
import { parseCpuList } from '../topology/cpulist.js';
import type { Window } from '../strategy/strategy.js';
import { strategyFlags, summary } from './run.js';
import type { StrategyKind } from '../recipes/recipe.js';
import type { CommandSpec } from './spec.js';

export interface ReplayOptions {
  feed: string;
  recipes: string[];
  /** A cgroup name (relative to the hierarchy root): not looked up on this host. */
  cgroup?: string;
  pids?: number[];
  /** "KNOB=VALUE": the value a knob starts at (default: the kernel's default). */
  assume?: string[];
  /** Overrides the recipes' `strategy`. */
  strategy?: StrategyKind;
  /** The learner's random seed (default 1): the same feed, recipes and seed give the same decisions. */
  seed?: number;
}

export interface Feed {
  windows: Window[];
  bad: Array<{ line: number; why: string }>;
  lines: number;
}

/** NDJSON records -> windows: a window ends where a signal repeats (watch all prints each signal once per interval). */
export function readFeed(text: string): Feed {
  const windows: Window[] = [];
  const bad: Feed['bad'] = [];
  let cur: SignalRecords = {};
  let ts = 0;
  const flush = (): void => {
    if (Object.keys(cur).length > 0) windows.push({ ts, records: cur });
    cur = {};
  };
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let rec: Json;
    try {
      rec = JSON.parse(line) as Json;
    } catch {
      bad.push({ line: i + 1, why: 'not JSON' });
      return;
    }
    const signal = rec?.signal;
    const t = typeof rec?.ts === 'string' ? Date.parse(rec.ts) : NaN;
    if (typeof signal !== 'string' || !(SIGNAL_FAMILIES as readonly string[]).includes(signal)) {
      bad.push({ line: i + 1, why: `no known "signal" (${JSON.stringify(signal)})` });
      return;
    }
    if (Number.isNaN(t)) {
      bad.push({ line: i + 1, why: 'no ISO "ts"' });
      return;
    }
    const shape = shapeProblem(signal as SignalFamily, rec);
    if (shape) {
      bad.push({ line: i + 1, why: shape });
      return;
    }
    if (cur[signal as keyof SignalRecords]) flush();
    cur[signal as keyof SignalRecords] = rec;
    ts = Math.max(ts, t);
  });
  flush();
  return { windows, bad, lines: lines.filter((l) => l.trim() !== '').length };
}

/** A record's collections (procs, cgroups, ...) must be lists of objects, as `watch --json` prints them. */
function shapeProblem(signal: SignalFamily, rec: Json): string | undefined {
  for (const [k, v] of Object.entries(rec)) {
    const isList = Array.isArray(v);
    if (!isList && k in (COLLECTIONS[signal] ?? {}) && v !== undefined)
      return `"${k}": expected a list of records, got ${v === null ? 'null' : typeof v}`;
    if (isList && v.some((x) => x === null || typeof x !== 'object' || Array.isArray(x)))
      return `"${k}": expected a list of records (objects), got an element that is not one`;
  }
  return undefined;
}

function simHostFor(windows: readonly Window[]): SimHost {
  const sched = windows.find((w) => w.records.sched)?.records.sched;
  const cpus = Array.isArray(sched?.cpus) ? sched.cpus.length : 1;
  const host = SimHost.withCpus(cpus);
  const numa = windows.find((w) => w.records.numa)?.records.numa;
  if (Array.isArray(numa?.nodes) && numa.nodes.length > 0) {
    const nodes = (numa.nodes as Json[]).map((n) => ({ node: Number(n.node), cpus: parseCpuList(String(n.cpus ?? '')) }));
    const online = [...new Set(nodes.flatMap((n) => n.cpus))].sort((a, b) => a - b);
    host.setTopology({ online, cores: online.map((c) => [c]), nodes });
  }
  return host;
}

/** Teach the simulated host what the records say about processes (cgroup, page placement). */
function learn(host: SimHost, w: Window): void {
  // A feed is input: a collection that is not a list of records teaches nothing (the detectors count it as missing).
  const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x): x is Json => x !== null && typeof x === 'object') : []);
  for (const p of list(w.records.sched?.procs))
    if (typeof p.pid === 'number' && typeof p.cgroup === 'string') host.learnCgroup(p.pid, p.cgroup);
  for (const p of list(w.records.numa?.procs)) {
    if (typeof p.pid === 'number' && p.pages && typeof p.pages === 'object') {
      host.learnPages(p.pid, new Map(Object.entries(p.pages as Record<string, number>).map(([k, v]) => [Number(k), Number(v)])));
    }
  }
}

function parseAssume(list: readonly string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of list) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`--assume: expected KNOB=VALUE (e.g. /sys/fs/cgroup/app/cpu.weight=10000), got ${JSON.stringify(a)}`);
    out.set(a.slice(0, eq), a.slice(eq + 1));
  }
  return out;
}

export async function* replay(o: ReplayOptions): AsyncGenerator<RunEvent> {
  const started = Date.now();
  let text: string;
  try {
    text = readFileSync(o.feed, 'utf8');
  } catch (err) {
    throw new UsageError(`replay ${o.feed}: cannot read the feed (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const { recipes: loaded, warnings } = loadRecipes(o.recipes);
  const assume = parseAssume(o.assume);
  const feed = readFeed(text);
  if (feed.windows.length === 0) {
    throw new UsageError(
      `replay ${o.feed}: expected NDJSON records from \`tuner watch ... --json\`, got ${feed.lines === 0 ? 'an empty file' : `no usable record in ${feed.lines} lines (line ${feed.bad[0]!.line}: ${feed.bad[0]!.why})`}`,
    );
  }
  const flags = runScope(loaded, o);
  let cgroup: string | undefined;
  if (flags.cgroup !== undefined) {
    cgroup = normalizeCgroupName(flags.cgroup.startsWith('/') ? flags.cgroup : `/${flags.cgroup}`);
    if (cgroup === undefined)
      throw new UsageError(`--cgroup ${flags.cgroup}: expected a cgroup name without "..", got one that climbs out of its tree`);
  }
  const firstTs = new Date(feed.windows[0]!.ts).toISOString();
  yield* warningNotices(warnings, firstTs);
  if (feed.bad.length > 0) {
    const list = feed.bad
      .slice(0, 5)
      .map((b) => `line ${b.line}: ${b.why}`)
      .join('; ');
    yield {
      type: 'notice',
      ts: firstTs,
      message: `${o.feed}: ${feed.bad.length} of ${feed.lines} lines are not records and were not replayed (${list}${feed.bad.length > 5 ? '; ...' : ''})`,
    };
  }
  const host = simHostFor(feed.windows);
  const io = new SimIo(host.topology().online, assume, (pid) => host.numaPages(pid));
  const scope = new ScopeGuard(flags.pids ? { pids: flags.pids } : { cgroup: cgroup ?? '/' }, host);
  const { recipes, notices } = applicable(loaded, host, firstTs);
  yield* notices;
  if (recipes.length === 0) {
    yield summary([], [], 'replay', 0, started);
    return;
  }
  const engines: Engine[] = makeEngines(recipes, {
    host,
    io,
    scope,
    mode: 'replay',
    claims: new Map(),
    choice: { ...(o.strategy ? { strategy: o.strategy } : {}), seed: o.seed ?? 1 },
  });
  let last = feed.windows[0]!.ts;
  for (const w of feed.windows) {
    learn(host, w);
    last = w.ts;
    for (const e of engines) yield* await e.tick(w);
  }
  const ends = [];
  for (const e of engines) ends.push(await e.revertAll(last));
  for (const end of ends) yield* end.events;
  const s = summary(engines, ends, 'replay', feed.windows.length, started);
  // In a replay, "time to the first change" is measured on the feed's clock.
  const firsts = engines.map((e) => e.firstChange).filter((t): t is number => t !== undefined);
  yield { ...s, ts: new Date(last).toISOString(), first_change_ms: firsts.length > 0 ? Math.min(...firsts) - feed.windows[0]!.ts : null };
}

/** --pid for replay: process IDs of the recorded host (not checked against this one). */
export function parseReplayPids(values: readonly string[]): number[] {
  const out: number[] = [];
  for (const v of values.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean)) {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 4_194_304)
      throw new UsageError(`--pid: expected a process ID (a whole number from 1 to 4194304), got ${JSON.stringify(v)}`);
    if (!out.includes(Number(v))) out.push(Number(v));
  }
  if (out.length === 0) throw new UsageError('--pid: expected at least one process ID');
  return out;
}

export const command: CommandSpec<ReplayOptions, RunEvent> = {
  options([feed, files], flags) {
    const f = flags as { cgroup?: string; pid?: string[]; assume?: string[]; strategy?: string; seed?: string };
    return {
      feed: feed as string,
      recipes: files as string[],
      cgroup: f.cgroup,
      pids: f.pid === undefined ? undefined : parseReplayPids(f.pid),
      assume: f.assume,
      ...strategyFlags(f),
    };
  },
  run: replay,
  output: {
    async view() {
      const { renderEvent } = await import('../output/run-view.js');
      return (e) => renderEvent(e, 'replay') + '\n';
    },
  },
};
