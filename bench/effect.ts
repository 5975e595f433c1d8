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
 *   node dist/bench/effect.js [--only NAME,...] [--reps 3] [--seconds 20] [--interval 500ms]
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
}

function parseArgs(argv: string[]): Args {
  const a: Args = { only: SCENARIOS.map((s) => s.name), reps: 3, seconds: 20, interval: '500ms', settle: 5 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
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
    else usage(`bad argument "${k}${v !== undefined ? ` ${v}` : ''}"`);
  }
  return a;
}

function usage(msg: string): never {
  process.stderr.write(
    `effect: ${msg}\nusage: node dist/bench/effect.js [--only NAME,...] [--reps N>=1] [--seconds N>=5] [--interval 500ms] [--settle N] [--conditions KIND,...] [--logs DIR]\n`,
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
            ...(kind === 'warm' ? { warmStarted: notes.some((m) => /^learned: warm start/.test(m)) } : {}),
          }
        : {}),
      ...(decisions.length > 0 ? { final: String(decisions.at(-1)!.new) } : {}),
      log: [
        ...decisions.map((d) => `${d.ts.slice(11, 23)} ${d.kind} ${d.old} -> ${d.new} [${d.strategy?.mode ?? ''}]`),
        ...notes.filter(
          (m) => /^learned: (converged|falling|level .* rolling|warm start|the saved model)/.test(m) || /^heuristic:/.test(m),
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
  const all: Cond[] = [
    { kind: 'alone' },
    { kind: 'none' },
    { kind: 'heuristic' },
    { kind: 'learned' },
    ...(sc.warm ? [{ kind: 'warm' } as Cond] : []),
    ...sc.settings.map((setting): Cond => ({ kind: 'static', setting })),
  ];
  const conds = all.filter((c) => a.conditions === undefined || a.conditions.includes(c.kind));
  const reps: Array<Record<string, Outcome>> = [];
  for (let r = 0; r < a.reps; r++) {
    const rep: Record<string, Outcome> = {};
    for (const c of conds) {
      // A warm run starts from what this repetition's cold learned run saved.
      const o = await runOnce(sc, c, bin, a, 1000 + r, rep.learned?.saved);
      if (c.kind === 'warm' && !rep.learned?.saved)
        log(`${sc.name} rep ${r + 1}/${a.reps} warm: no saved model from a learned run: it starts cold`);
      rep[condName(c)] = o;
      log(
        `${sc.name} rep ${r + 1}/${a.reps} ${condName(c)}: ${round(o.value, 2)} ${sc.objective.unit}${o.tuner ? ` (${o.tuner.steps} steps, ${o.tuner.stepsBack} back, final ${o.tuner.final ?? '-'}${o.tuner.convergedAfter !== undefined ? `, converged after ${o.tuner.convergedAfter ?? '-'}` : ''})` : ''}${o.ok ? '' : ' [violates the recipe constraint]'}`,
      );
      for (const l of o.tuner?.log ?? []) log(`    ${l}`);
    }
    reps.push(rep);
  }
  if (a.conditions !== undefined)
    return { diagnosis: Object.fromEntries(conds.map((c) => [condName(c), reps.map((r) => r[condName(c)]!.value)])) };
  const values = (name: string): number[] => reps.map((r) => r[name]!.value);
  const med = (name: string): number => median(values(name));
  // The oracle: the static setting with the best median among those that satisfy the recipe's constraints.
  const allowed = sc.settings.filter(
    (st) => reps.every((r) => r[st.label]!.ok) || median(reps.map((r) => (r[st.label]!.ok ? 1 : 0))) === 1,
  );
  const best = (allowed.length > 0 ? allowed : sc.settings).reduce((b, st) => (better(sc, med(st.label), med(b.label)) ? st : b));
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
    recovery: {
      heuristic: perRep((r) => recovery(r.heuristic!.value, r.none!.value, r.alone!.value)),
      learned: perRep((r) => recovery(r.learned!.value, r.none!.value, r.alone!.value)),
      ...(sc.warm ? { warm: perRep((r) => recovery(r.warm!.value, r.none!.value, r.alone!.value)) } : {}),
      best_static: perRep((r) => recovery(r[best.label]!.value, r.none!.value, r.alone!.value)),
    },
    ratios: {
      heuristic_to_none: perRep((r) => r.heuristic!.value / r.none!.value),
      learned_to_none: perRep((r) => r.learned!.value / r.none!.value),
      learned_to_best_static: perRep((r) => r.learned!.value / r[best.label]!.value),
      learned_to_heuristic: perRep((r) => r.learned!.value / r.heuristic!.value),
      ...(sc.warm
        ? {
            warm_to_best_static: perRep((r) => r.warm!.value / r[best.label]!.value),
            warm_to_learned: perRep((r) => r.warm!.value / r.learned!.value),
            warm_to_heuristic: perRep((r) => r.warm!.value / r.heuristic!.value),
          }
        : {}),
    },
    // The same after the first seconds: what the tuners hold once they have acted, against the same span of every setting.
    settled: settledSummary(sc, reps, conds),
    tuner: { heuristic: tunerFacts('heuristic'), learned: tunerFacts('learned'), ...(sc.warm ? { warm: tunerFacts('warm') } : {}) },
  };
}

function settledSummary(sc: Scenario, reps: Array<Record<string, Outcome>>, conds: Cond[]): Record<string, unknown> {
  const values = (name: string): number[] => reps.map((r) => r[name]!.settled);
  const med = (name: string): number => median(values(name));
  const allowed = sc.settings.filter(
    (st) => reps.every((r) => r[st.label]!.ok) || median(reps.map((r) => (r[st.label]!.ok ? 1 : 0))) === 1,
  );
  const best = (allowed.length > 0 ? allowed : sc.settings).reduce((b, st) => (better(sc, med(st.label), med(b.label)) ? st : b));
  const perRep = (f: (r: Record<string, Outcome>) => number): Summary => summarize(reps.map(f));
  return {
    best_static: best.label,
    conditions: Object.fromEntries(conds.map((c) => [condName(c), { ...summarize(values(condName(c))), values: values(condName(c)) }])),
    recovery: {
      heuristic: perRep((r) => recovery(r.heuristic!.settled, r.none!.settled, r.alone!.settled)),
      learned: perRep((r) => recovery(r.learned!.settled, r.none!.settled, r.alone!.settled)),
      ...(sc.warm ? { warm: perRep((r) => recovery(r.warm!.settled, r.none!.settled, r.alone!.settled)) } : {}),
    },
    ratios: {
      learned_to_best_static: perRep((r) => r.learned!.settled / r[best.label]!.settled),
      learned_to_heuristic: perRep((r) => r.learned!.settled / r.heuristic!.settled),
      heuristic_to_best_static: perRep((r) => r.heuristic!.settled / r[best.label]!.settled),
      ...(sc.warm ? { warm_to_best_static: perRep((r) => r.warm!.settled / r[best.label]!.settled) } : {}),
    },
  };
}

const fmt = (s: Summary | undefined, d = 1): string =>
  s === undefined || Number.isNaN(s.median) ? '-' : `${round(s.median, d)} (${round(s.min, d)}-${round(s.max, d)})`;

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the effect suite creates cgroups and loads BPF programs: run it as root');
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: npm run build');
  const log = (s: string): void => void process.stderr.write(`effect: ${s}\n`);
  const bin = await effectBinary();
  const out = path.join(BENCH_SRC, 'effect.json');
  const prev = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { scenarios?: Record<string, unknown> }) : {};
  const m = machine();
  const results: Record<string, unknown> = a.conditions !== undefined ? {} : { ...(prev.scenarios ?? {}) };
  for (const sc of SCENARIOS.filter((s) => a.only.includes(s.name))) {
    const t0 = Date.now();
    results[sc.name] = {
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
      `${fmt(r.recovery.heuristic, 2)} / ${fmt(r.recovery.learned, 2)}`,
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
