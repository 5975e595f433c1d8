/**
 * `npm run effect`: what the shipped recipes give a workload, measured by
 * the workload itself. Each scenario runs, in every repetition and back to
 * back: the victim alone (no interference: what was lost), no tuner, the
 * shipped recipe with the heuristic, the same recipe with the learned
 * strategy (cold: no saved model), where the learner's target is a cgroup
 * the same again warm (starting from the model the cold run of that
 * repetition saved, as after a restart), and every setting of the knob's
 * bounded range held static (the best is the oracle). Medians over repetitions with
 * their range; recoveries and ratios are taken within each repetition, then
 * their median. Prints a table and merges its scenarios into
 * bench/effect.json.
 *
 *   node dist/bench/effect.js [--only NAME,...] [--reps 3] [--seconds 16] [--interval 500ms]
 *
 * Long runs split over several commands (one machine-lock hold each):
 *   node dist/bench/effect.js --only X --seconds 60 --conditions heuristic,learned,warm,static \
 *     --settings 'hog cpu.shares 256' --reps 2 --save a.json
 *   node dist/bench/effect.js ... --reps 1 --first-rep 2 --save b.json
 *   node dist/bench/effect.js --combine a.json,b.json     (merges X@60s into bench/effect.json)
 *
 * On cgroup v2 (a guest of the VM harness): the workloads built on the host first (--build), the
 * results written to a file of their own (--out FILE) instead of bench/effect.json.
 *
 * It loads BPF programs and saturates the CPUs: run it under the machine
 * lock, one scenario per command (each takes about 8-11 minutes).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onCleanup, runCleanups } from './lib/cleanup.js';
import { BENCH_SRC, CLI, ROOT } from './lib/paths.js';
import { machine } from './lib/proc.js';
import { lines, start, stderrOf } from './lib/spawn.js';
import { median, round, summarize, type Summary } from './lib/stats.js';
import { toText } from './lib/table.js';
import { SCENARIOS, type Scenario, type Setting } from './effect/scenarios.js';
import { cpuSomeUs, effectBinary } from './effect/work.js';
import { runOrder } from './effect/order.js';

interface Args {
  only: string[];
  reps: number;
  seconds: number;
  interval: string;
  /** Only these conditions (alone, none, heuristic, learned, warm, static); a diagnosis run: nothing is merged into effect.json. */
  conditions?: string[];
  /** Seconds at the start of a run left out of the settled figures. */
  settle: number;
  /** Keep every tuner run's full NDJSON event stream in this directory, and the signal feed (`tuner watch --json`) of every static setting. */
  logs?: string;
  /** Only these static settings (by label); the oracle is the best of them. */
  settings?: string[];
  /** Index of the first repetition (its seed is 1000 + index), to split repetitions over several commands. */
  firstRep: number;
  /** Write every repetition's outcomes to this file (for --combine). */
  save?: string;
  /** Summarize the repetitions saved in these files (one scenario, one duration) and merge them; nothing runs. */
  combine?: string[];
  /** Write the results to this file alone instead of merging them into bench/effect.json (a guest of the VM harness, say). */
  out?: string;
  /** Only build the workloads' binary (a guest of the VM harness has no compiler: it runs the host's). */
  build?: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { only: SCENARIOS.map((s) => s.name), reps: 3, seconds: 16, interval: '500ms', settle: 5, firstRep: 0 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (k === '--build') {
      a.build = true;
      continue;
    }
    const v = argv[++i];
    if (k === '--only' && v) {
      a.only = v.split(',');
      for (const n of a.only)
        if (!SCENARIOS.some((s) => s.name === n)) usage(`--only: unknown scenario "${n}" (${SCENARIOS.map((s) => s.name).join(', ')})`);
    } else if (k === '--reps' && v && /^\d+$/.test(v) && Number(v) >= 1) a.reps = Number(v);
    else if (k === '--seconds' && v && /^\d+$/.test(v) && Number(v) >= 5) a.seconds = Number(v);
    else if (k === '--interval' && v && /^\d+(ms|s)$/.test(v)) a.interval = v;
    else if (k === '--settle' && v && /^\d+$/.test(v)) a.settle = Number(v);
    else if (k === '--conditions' && v) {
      a.conditions = v.split(',');
      for (const c of a.conditions)
        if (!CONDITION_KINDS.includes(c)) usage(`--conditions: unknown condition "${c}" (${CONDITION_KINDS.join(', ')})`);
    } else if (k === '--logs' && v) a.logs = v;
    else if (k === '--settings' && v) a.settings = v.split(',');
    else if (k === '--first-rep' && v && /^\d+$/.test(v)) a.firstRep = Number(v);
    else if (k === '--save' && v) a.save = v;
    else if (k === '--combine' && v) a.combine = v.split(',');
    else if (k === '--out' && v) a.out = v;
    else usage(`bad argument "${k}${v !== undefined ? ` ${v}` : ''}"`);
  }
  for (const name of a.only) {
    const sc = SCENARIOS.find((x) => x.name === name)!;
    for (const l of a.settings ?? [])
      if (a.only.length === 1 && !sc.settings.some((st) => st.label === l))
        usage(`--settings: ${name} has no setting "${l}" (${sc.settings.map((st) => st.label).join(', ')})`);
  }
  return a;
}

function usage(msg: string): never {
  process.stderr.write(
    `effect: ${msg}\nusage: node dist/bench/effect.js [--only NAME,...] [--reps N>=1] [--seconds N>=5] [--interval 500ms] [--settle N] [--conditions KIND,...] [--settings LABEL,...] [--first-rep N] [--save FILE] [--logs DIR] [--out FILE]\n       node dist/bench/effect.js --combine FILE,...\n       node dist/bench/effect.js --build\n`,
  );
  process.exit(2);
}

const CONDITION_KINDS = ['alone', 'none', 'heuristic', 'learned', 'warm', 'static'];
type TunerKind = 'heuristic' | 'learned' | 'warm';
type Cond = { kind: 'alone' } | { kind: 'none' } | { kind: TunerKind } | { kind: 'static'; setting: Setting };
const condName = (c: Cond): string => (c.kind === 'static' ? c.setting.label : c.kind);

interface TunerFacts {
  steps: number;
  stepsBack: number;
  rollbacks: number;
  fallbackWindows?: number;
  convergedAfter?: number | null;
  maxViolationRun?: number;
  /** Steps taken before 3 windows at a level, on a gain far beyond the noise. */
  leaps?: number;
  /** Times the learner moved again after converging (and how many of them followed a drift of the held level). */
  unconverged?: number;
  drifts?: number;
  /** A warm run: whether the learner found the saved model and started from it. */
  warmStarted?: boolean;
  final?: string;
  log: string[];
}

/** What a learned run saved (TUNER_LEARNED_FILE) and the cgroup name prefix its entries are keyed under. */
interface SavedModel {
  text: string;
  prefix: string;
}

/** The scene's unique cgroup name prefix (tuner-effect-<pid>-<n>). */
function scenePrefix(cgroups: Record<string, { path: string }>): string | undefined {
  for (const c of Object.values(cgroups)) {
    const m = /tuner-effect-\d+-\d+/.exec(c.path);
    if (m) return m[0];
  }
  return undefined;
}

interface Outcome {
  value: number;
  /** The objective over the run after its first `--settle` seconds (the tuners have acted by then). */
  settled: number;
  extras: Record<string, number>;
  ok: boolean;
  tuner?: TunerFacts;
  saved?: SavedModel;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function runTuner(
  sc: Scenario,
  scope: string[],
  kind: TunerKind,
  a: Args,
  seed: number,
  dir: string,
): Promise<{ done: Promise<TunerFacts> }> {
  const recipe = path.join(ROOT, 'recipes', sc.recipe);
  const child = start(
    process.execPath,
    [
      CLI,
      'run',
      recipe,
      '--apply',
      ...scope,
      '--duration',
      `${a.seconds}s`,
      '--interval',
      a.interval,
      '--json',
      '--strategy',
      kind === 'heuristic' ? 'heuristic' : 'learned',
      '--seed',
      String(seed),
    ],
    {
      TUNER_JOURNAL_DIR: path.join(dir, 'journal'),
      TUNER_LEARNED_FILE: path.join(dir, 'learned.json'),
    },
  );
  const err = stderrOf(child);
  const events: Array<Record<string, any>> = [];
  const read = lines(child, (line) => {
    try {
      events.push(JSON.parse(line));
    } catch {
      events.push({ type: 'garbage', line });
    }
  });
  const done = (async (): Promise<TunerFacts> => {
    const r = await child;
    await read;
    if (a.logs) {
      mkdirSync(a.logs, { recursive: true });
      writeFileSync(path.join(a.logs, `${sc.name}-${kind}-${seed}.ndjson`), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    }
    if (r.exitCode !== 0) throw new Error(`tuner run ${sc.recipe} (${kind}) exited ${r.exitCode ?? r.signal}: ${err().slice(0, 800)}`);
    const decisions = events.filter((e) => e.type === 'decision' && e.kind !== 'revert');
    const notes = events.filter((e) => e.type === 'notice').map((e) => String(e.message));
    const stats = notes.find((m) => /^learned: \d+ windows at the target/.test(m));
    const num = (re: RegExp): number | undefined => {
      const m = stats ? re.exec(stats) : null;
      return m ? Number(m[1]) : undefined;
    };
    return {
      steps: decisions.filter((d) => d.kind === 'step').length,
      stepsBack: decisions.filter((d) => d.kind === 'relax').length,
      rollbacks: decisions.filter((d) => d.strategy?.mode === 'rollback').length,
      ...(kind !== 'heuristic'
        ? {
            fallbackWindows: num(/(\d+) windows? decided by the rules/) ?? 0,
            convergedAfter: num(/converged after (\d+) windows/) ?? null,
            maxViolationRun: num(/violated at most (\d+) window/) ?? 0,
            leaps: num(/\((\d+) on overwhelming evidence\)/) ?? 0,
            unconverged: num(/moved again after converging (\d+) time/) ?? 0,
            drifts: num(/\((\d+) on a drift of the held level\)/) ?? 0,
            ...(kind === 'warm' ? { warmStarted: notes.some((m) => /^learned: warm start/.test(m)) } : {}),
          }
        : {}),
      ...(decisions.length > 0 ? { final: String(decisions.at(-1)!.new) } : {}),
      log: [
        ...decisions.map((d) => `${d.ts.slice(11, 23)} ${d.kind} ${d.old} -> ${d.new} [${d.strategy?.mode ?? ''}]`),
        ...notes.filter(
          (m) =>
            /^learned: (converged|falling|level .* rolling|level .* drifted|moved again|warm start|the saved model)/.test(m) ||
            /^heuristic:/.test(m),
        ),
      ],
    };
  })();
  return { done };
}

/** The signal feed of a static setting, as `tuner watch --json` records it, kept for replays of the learner's decisions. */
async function recordFeed(sc: Scenario, scope: string[], a: Args, name: string): Promise<void> {
  const child = start(process.execPath, [
    CLI,
    'watch',
    sc.watch ?? 'sched',
    ...scope,
    '--json',
    '--interval',
    a.interval,
    '--duration',
    `${a.seconds}s`,
  ]);
  const out: string[] = [];
  const read = lines(child, (line) => void out.push(line));
  const r = await child;
  await read;
  if (r.exitCode !== 0) throw new Error(`tuner watch for ${name} exited ${r.exitCode ?? r.signal}`);
  mkdirSync(a.logs!, { recursive: true });
  writeFileSync(path.join(a.logs!, `${name}.ndjson`), out.join('\n') + '\n');
}

async function runOnce(sc: Scenario, c: Cond, bin: string, a: Args, seed: number, warmFrom?: SavedModel): Promise<Outcome> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tuner-effect-'));
  const undo = onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const s = await sc.setup(bin, c.kind === 'alone');
  const learnedFile = path.join(dir, 'learned.json');
  const prefix = scenePrefix(s.cgroups);
  try {
    if (c.kind === 'static') c.setting.apply(s);
    if (c.kind === 'warm' && warmFrom && prefix) {
      // As after a restart on the same target: the saved entries, keyed under this scene's cgroup names.
      writeFileSync(learnedFile, warmFrom.text.replaceAll(warmFrom.prefix, prefix), { mode: 0o600 });
      chmodSync(learnedFile, 0o600);
    }
    await sleep(1500); // let the workloads settle at the setting
    const tuner =
      c.kind === 'heuristic' || c.kind === 'learned' || c.kind === 'warm'
        ? await runTuner(sc, sc.scope(s), c.kind, a, seed, dir)
        : undefined;
    const feed =
      c.kind === 'static' && a.logs
        ? recordFeed(sc, sc.scope(s), a, `${sc.name}-${c.setting.label.replace(/[^\w.]+/g, '_')}-${seed}`)
        : undefined;
    const from = Date.now();
    const psi0 = cpuSomeUs();
    await sleep(a.seconds * 1000);
    const to = Date.now();
    const psi1 = cpuSomeUs();
    // The tuner and the recorder end while the workloads still run: their last windows see the scene, not its teardown.
    const facts = tuner ? await tuner.done : undefined;
    await feed;
    for (const w of Object.values(s.work)) await w.stop();
    const psiSomePct = ((psi1 - psi0) / ((to - from) * 1000)) * 100;
    const m = sc.measure(s, { from, to, psiSomePct });
    const settled = sc.measure(s, { from: from + a.settle * 1000, to, psiSomePct }).value;
    const saved =
      c.kind === 'learned' && prefix && existsSync(learnedFile) ? { text: readFileSync(learnedFile, 'utf8'), prefix } : undefined;
    return { ...m, settled, ...(facts ? { tuner: facts } : {}), ...(saved ? { saved } : {}) };
  } finally {
    await s.teardown();
    undo();
  }
}

const better = (sc: Scenario, x: number, y: number): boolean => (sc.objective.goal === 'higher' ? x > y : x < y);

/** Share of what the interference took that a condition gives back: (x - none) / (alone - none). */
const recovery = (x: number, none: number, alone: number): number => (x - none) / (alone - none);

async function scenario(sc: Scenario, bin: string, a: Args, log: (s: string) => void): Promise<Record<string, unknown>> {
  const skip = sc.skip?.();
  if (skip) {
    log(`${sc.name}: skipped: ${skip}`);
    return { skipped: skip };
  }
  const settings = staticSettings(sc, a.settings);
  const all: Cond[] = [
    { kind: 'alone' },
    { kind: 'none' },
    { kind: 'heuristic' },
    { kind: 'learned' },
    ...(sc.warm ? [{ kind: 'warm' } as Cond] : []),
    ...settings.map((setting): Cond => ({ kind: 'static', setting })),
  ];
  const conds = all.filter((c) => a.conditions === undefined || a.conditions.includes(c.kind));
  const reps: Array<Record<string, Outcome>> = [];
  for (let r = a.firstRep; r < a.firstRep + a.reps; r++) {
    const rep: Record<string, Outcome> = {};
    for (const c of runOrder(conds, r)) {
      // A warm run starts from what this repetition's cold learned run saved.
      const o = await runOnce(sc, c, bin, a, 1000 + r, rep.learned?.saved);
      if (c.kind === 'warm' && !rep.learned?.saved)
        log(`${sc.name} rep ${r + 1}/${a.firstRep + a.reps} warm: no saved model from a learned run: it starts cold`);
      rep[condName(c)] = o;
      log(
        `${sc.name} rep ${r + 1}/${a.firstRep + a.reps} ${condName(c)}: ${round(o.value, 2)} ${sc.objective.unit}${o.tuner ? ` (${o.tuner.steps} steps, ${o.tuner.stepsBack} back, final ${o.tuner.final ?? '-'}${o.tuner.convergedAfter !== undefined ? `, converged after ${o.tuner.convergedAfter ?? '-'}` : ''})` : ''}${o.ok ? '' : ' [violates the recipe constraint]'}`,
      );
      for (const l of o.tuner?.log ?? []) log(`    ${l}`);
    }
    reps.push(rep);
  }
  if (a.save) {
    // Everything the summary needs, without the logs and the saved models.
    const strip = (o: Outcome): Omit<Outcome, 'saved'> => {
      const { saved: _s, tuner, ...rest } = o;
      if (!tuner) return rest;
      const { log: _l, ...facts } = tuner;
      return { ...rest, tuner: { ...facts, log: [] } };
    };
    const saved: SavedReps = {
      scenario: sc.name,
      seconds: a.seconds,
      interval: a.interval,
      settle: a.settle,
      reps: reps.map((r, i) => ({
        seed: 1000 + a.firstRep + i,
        outcomes: Object.fromEntries(Object.entries(r).map(([k, o]) => [k, strip(o)])),
      })),
    };
    writeFileSync(a.save, JSON.stringify(saved, null, 1) + '\n');
  }
  if (a.conditions !== undefined)
    return { diagnosis: Object.fromEntries(conds.map((c) => [condName(c), reps.map((r) => r[condName(c)]!.value)])) };
  return summarizeReps(sc, settings, conds, reps);
}

/** The scenario's static settings, or those named (the oracle is then the best of them). */
function staticSettings(sc: Scenario, labels: string[] | undefined): Setting[] {
  return labels === undefined ? sc.settings : sc.settings.filter((st) => labels.includes(st.label));
}

/** Repetitions as --save writes them. */
interface SavedReps {
  scenario: string;
  seconds: number;
  interval: string;
  settle: number;
  reps: Array<{ seed: number; outcomes: Record<string, Outcome> }>;
}

/** What a summary reads of an outcome: its whole-run value or its settled one. */
type Pick = (o: Outcome) => number;

/** The oracle: the static setting with the best median (of `pick`) among those that satisfy the recipe's constraints. */
function bestStatic(sc: Scenario, settings: Setting[], reps: Array<Record<string, Outcome>>, pick: Pick): Setting {
  const med = (label: string): number => median(reps.map((r) => pick(r[label]!)));
  const allowed = settings.filter((st) => reps.every((r) => r[st.label]!.ok) || median(reps.map((r) => (r[st.label]!.ok ? 1 : 0))) === 1);
  return (allowed.length > 0 ? allowed : settings).reduce((b, st) => (better(sc, med(st.label), med(b.label)) ? st : b));
}

/** The share of the victim's lost objective each tuner (and the best static setting, when named) gave back, per repetition. */
function recoveries(reps: Array<Record<string, Outcome>>, pick: Pick, warm: boolean, best?: string): Record<string, Summary> {
  const of = (name: string): Summary => summarize(reps.map((r) => recovery(pick(r[name]!), pick(r.none!), pick(r.alone!))));
  return {
    heuristic: of('heuristic'),
    learned: of('learned'),
    ...(warm ? { warm: of('warm') } : {}),
    ...(best !== undefined ? { best_static: of(best) } : {}),
  };
}

/**
 * The summary of a scenario's repetitions: medians and ranges per condition, and ratios within each repetition
 * (recovery and ratios to no tuner only where `alone` and `none` ran).
 */
function summarizeReps(sc: Scenario, settings: Setting[], conds: Cond[], reps: Array<Record<string, Outcome>>): Record<string, unknown> {
  const has = (name: string): boolean => reps.every((r) => r[name] !== undefined);
  const baseline = has('alone') && has('none');
  const warm = has('warm');
  const values = (name: string): number[] => reps.map((r) => r[name]!.value);
  const best = bestStatic(sc, settings, reps, (o) => o.value);
  const perRep = (f: (r: Record<string, Outcome>) => number): Summary => summarize(reps.map(f));
  const summary = (name: string): Summary & { values: number[] } => ({ ...summarize(values(name)), values: values(name) });
  const tunerFacts = (kind: TunerKind) =>
    reps.map((r) => {
      const { log: _log, ...rest } = r[kind]!.tuner ?? ({ log: [] } as unknown as TunerFacts);
      return rest;
    });
  const extras = Object.fromEntries(
    conds.map((c) => [
      condName(c),
      Object.fromEntries(
        Object.keys(reps[0]![condName(c)]!.extras).map((k) => [k, summarize(reps.map((r) => r[condName(c)]!.extras[k]!))]),
      ),
    ]),
  );
  return {
    recipe: sc.recipe,
    objective: sc.objective,
    initial: sc.initial,
    best_static: best.label,
    conditions: Object.fromEntries(conds.map((c) => [condName(c), summary(condName(c))])),
    extras,
    ...(baseline
      ? {
          recovery: recoveries(reps, (o) => o.value, warm, best.label),
        }
      : {}),
    ratios: {
      ...(baseline
        ? {
            heuristic_to_none: perRep((r) => r.heuristic!.value / r.none!.value),
            learned_to_none: perRep((r) => r.learned!.value / r.none!.value),
          }
        : {}),
      learned_to_best_static: perRep((r) => r.learned!.value / r[best.label]!.value),
      learned_to_heuristic: perRep((r) => r.learned!.value / r.heuristic!.value),
      ...(warm
        ? {
            warm_to_best_static: perRep((r) => r.warm!.value / r[best.label]!.value),
            warm_to_learned: perRep((r) => r.warm!.value / r.learned!.value),
            warm_to_heuristic: perRep((r) => r.warm!.value / r.heuristic!.value),
          }
        : {}),
    },
    // The same after the first seconds: what the tuners hold once they have acted, against the same span of every setting.
    settled: settledSummary(sc, settings, reps, conds),
    tuner: { heuristic: tunerFacts('heuristic'), learned: tunerFacts('learned'), ...(warm ? { warm: tunerFacts('warm') } : {}) },
  };
}

function settledSummary(sc: Scenario, settings: Setting[], reps: Array<Record<string, Outcome>>, conds: Cond[]): Record<string, unknown> {
  const has = (name: string): boolean => reps.every((r) => r[name] !== undefined);
  const baseline = has('alone') && has('none');
  const warm = has('warm');
  const values = (name: string): number[] => reps.map((r) => r[name]!.settled);
  const best = bestStatic(sc, settings, reps, (o) => o.settled);
  const perRep = (f: (r: Record<string, Outcome>) => number): Summary => summarize(reps.map(f));
  return {
    best_static: best.label,
    conditions: Object.fromEntries(conds.map((c) => [condName(c), { ...summarize(values(condName(c))), values: values(condName(c)) }])),
    ...(baseline
      ? {
          recovery: recoveries(reps, (o) => o.settled, warm),
        }
      : {}),
    ratios: {
      learned_to_best_static: perRep((r) => r.learned!.settled / r[best.label]!.settled),
      learned_to_heuristic: perRep((r) => r.learned!.settled / r.heuristic!.settled),
      heuristic_to_best_static: perRep((r) => r.heuristic!.settled / r[best.label]!.settled),
      ...(warm ? { warm_to_best_static: perRep((r) => r.warm!.settled / r[best.label]!.settled) } : {}),
    },
  };
}

const fmt = (s: Summary | undefined, d = 1): string =>
  s === undefined || Number.isNaN(s.median) ? '-' : `${round(s.median, d)} (${round(s.min, d)}-${round(s.max, d)})`;

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.combine) return combine(a.combine);
  if (a.build) return void process.stderr.write(`effect: built ${await effectBinary()}\n`);
  if (process.getuid?.() !== 0) throw new Error('the effect suite creates cgroups and loads BPF programs: run it as root');
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: npm run build');
  const log = (s: string): void => void process.stderr.write(`effect: ${s}\n`);
  const bin = await effectBinary();
  const out = a.out ?? path.join(BENCH_SRC, 'effect.json');
  const prev =
    a.out === undefined && existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { scenarios?: Record<string, unknown> }) : {};
  const m = machine();
  const results: Record<string, unknown> = a.conditions !== undefined ? {} : { ...(prev.scenarios ?? {}) };
  for (const sc of SCENARIOS.filter((s) => a.only.includes(s.name))) {
    const t0 = Date.now();
    results[resultKey(sc.name, a.seconds)] = {
      ...(await scenario(sc, bin, a, log)),
      run: {
        at: new Date().toISOString(),
        reps: a.reps,
        seconds: a.seconds,
        interval: a.interval,
        minutes: round((Date.now() - t0) / 60_000, 1),
      },
    };
  }
  if (a.conditions !== undefined) {
    process.stdout.write(JSON.stringify(results, null, 1) + '\n');
    return;
  }
  writeFileSync(out, JSON.stringify({ machine: `Linux ${m.kernel}, ${m.cpus} CPUs (${m.model})`, scenarios: results }, null, 1) + '\n');
  printTable(results, a);
}

/** Runs of the default length keep the scenario's name; longer or shorter ones are kept beside them (name@60s). */
const resultKey = (name: string, seconds: number): string => (seconds === 16 ? name : `${name}@${seconds}s`);

/** --combine: the repetitions saved by several commands (one scenario, one duration), summarized and merged. */
function combine(files: string[]): void {
  const parts = files.map((f): SavedReps => {
    try {
      return JSON.parse(readFileSync(f, 'utf8')) as SavedReps;
    } catch (err) {
      return usage(`--combine: ${f}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  const first = parts[0]!;
  for (const [i, p] of parts.entries())
    if (p.scenario !== first.scenario || p.seconds !== first.seconds || p.interval !== first.interval || p.settle !== first.settle)
      usage(
        `--combine: ${files[i]} is ${p.scenario} ${p.seconds} s, ${p.interval}, settle ${p.settle}; ${files[0]} is ${first.scenario} ${first.seconds} s, ${first.interval}, settle ${first.settle}`,
      );
  const sc = SCENARIOS.find((x) => x.name === first.scenario);
  if (!sc) usage(`--combine: unknown scenario "${first.scenario}"`);
  const reps = parts.flatMap((p) => p.reps);
  const seeds = reps.map((r) => r.seed);
  if (new Set(seeds).size !== seeds.length) usage(`--combine: a repetition appears twice (seeds ${seeds.join(', ')})`);
  const names = Object.keys(reps[0]!.outcomes);
  for (const r of reps)
    if (Object.keys(r.outcomes).join() !== names.join()) usage(`--combine: seed ${r.seed} ran other conditions than seed ${reps[0]!.seed}`);
  const settings = sc.settings.filter((st) => names.includes(st.label));
  const conds: Cond[] = names.map((n) =>
    n === 'alone' || n === 'none' || n === 'heuristic' || n === 'learned' || n === 'warm'
      ? ({ kind: n } as Cond)
      : { kind: 'static', setting: settings.find((st) => st.label === n)! },
  );
  const a: Args = {
    only: [sc.name],
    reps: reps.length,
    seconds: first.seconds,
    interval: first.interval,
    settle: first.settle,
    firstRep: 0,
  };
  const out = path.join(BENCH_SRC, 'effect.json');
  const prev = JSON.parse(readFileSync(out, 'utf8')) as { machine: string; scenarios: Record<string, unknown> };
  const key = resultKey(sc.name, first.seconds);
  const results = {
    ...prev.scenarios,
    [key]: {
      ...summarizeReps(
        sc,
        settings,
        conds,
        reps.map((r) => r.outcomes),
      ),
      run: { reps: reps.length, seeds, seconds: first.seconds, interval: first.interval, conditions: names, combined_from: files.length },
    },
  };
  writeFileSync(out, JSON.stringify({ ...prev, scenarios: results }, null, 1) + '\n');
  printTable({ [key]: results[key] }, a);
}

function printTable(results: Record<string, unknown>, a: Args): void {
  const rows: string[][] = [];
  for (const [name, r] of Object.entries(results) as Array<[string, any]>) {
    if (r.skipped) {
      rows.push([name, 'skipped', '', '', '', '', '', '', '', '', '', '']);
      continue;
    }
    const lt = r.tuner.learned as TunerFacts[];
    rows.push([
      name,
      `${r.objective.name} (${r.objective.unit}, ${r.objective.goal})`,
      fmt(r.conditions.alone),
      fmt(r.conditions.none),
      fmt(r.conditions.heuristic),
      `${fmt(r.conditions.learned)}${r.conditions.warm ? ` / warm ${fmt(r.conditions.warm)}` : ''}`,
      `${fmt(r.conditions[r.best_static])} [${r.best_static}]`,
      `${fmt(r.recovery?.heuristic, 2)} / ${fmt(r.recovery?.learned, 2)}`,
      `${fmt(r.ratios.learned_to_best_static, 2)}${r.ratios.warm_to_best_static ? ` / warm ${fmt(r.ratios.warm_to_best_static, 2)}` : ''}`,
      r.settled
        ? `${fmt(r.settled.conditions.heuristic)} / ${fmt(r.settled.conditions.learned)} / ${fmt(r.settled.conditions[r.settled.best_static])}; learned/best ${fmt(r.settled.ratios.learned_to_best_static, 2)}`
        : '-',
      `${lt.map((t) => t.convergedAfter ?? '-').join(',')}${r.tuner.warm ? ` / warm ${(r.tuner.warm as TunerFacts[]).map((t) => t.convergedAfter ?? '-').join(',')}` : ''}`,
      `${lt.map((t) => t.rollbacks).join(',')} / ${lt.map((t) => t.fallbackWindows).join(',')} / ${lt.map((t) => t.maxViolationRun).join(',')}`,
    ]);
  }
  process.stdout.write(
    toText({
      title: `effect of the shipped recipes (medians over repetitions, range in parentheses; ${a.interval} windows)`,
      head: [
        'scenario',
        'objective',
        'alone',
        'no tuner',
        'heuristic',
        'learned (/ warm)',
        'best static',
        'recovery heur / learned',
        'learned / best (/ warm)',
        'settled: heuristic / learned / best static',
        'converged (windows; / warm)',
        'rollbacks / fallback windows / max violation run',
      ],
      rows,
      notes: [
        'recovery = (condition - no tuner) / (alone - no tuner), per repetition; learned / best = learned objective over the best static one in the same repetition',
        `settled = the same objective after the first ${a.settle} s of each run (every condition over the same span)`,
      ],
    }) + '\n',
  );
}

main()
  .catch((err) => {
    process.stderr.write(`effect: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(runCleanups);
