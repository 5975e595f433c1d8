/**
 * The agent's config file (/etc/tuner/agent.yaml): one zod schema, checked
 * the way recipes are (YAML with line numbers, every problem named by file,
 * line and dotted path, exit 2). Flags override what the file says.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { problemsOf } from '../recipes/issues.js';
import { keysAt } from '../recipes/load.js';
import { lineAt } from '../recipes/positions.js';
import { describe, dotted, error, type Problem } from '../recipes/problems.js';
import { duration, durationMs, num } from '../recipes/fields.js';

export const DEFAULT_CONFIG_FILE = '/etc/tuner/agent.yaml';
export const DEFAULT_RECIPES_DIR = '/etc/tuner/recipes';
export const DEFAULT_LISTEN = '127.0.0.1:9477';

/** Signals the agent can keep open for its metrics (events and numa feed recipes only). */
export const METRIC_SIGNALS = ['sched', 'futex', 'io', 'net', 'psi'] as const;

const LISTEN_TEXT = 'HOST:PORT, like "127.0.0.1:9477" or "[::1]:9477" (port 1 to 65535)';
const LISTEN_RE = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

const listen = z.string({ error: LISTEN_TEXT }).refine(
  (s) => {
    const m = LISTEN_RE.exec(s);
    return m !== null && Number(m[3]) >= 1 && Number(m[3]) <= 65535;
  },
  { error: LISTEN_TEXT },
);

export const agentConfigSchema = z
  .strictObject({
    recipes: z
      .string({ error: 'a directory of recipe files' })
      .min(1, { error: 'a directory of recipe files' })
      .optional()
      .meta({ description: `every *.yaml in it runs, in audit mode unless it says apply: true (default ${DEFAULT_RECIPES_DIR})` }),
    interval: duration.optional().meta({ description: 'one window for every signal, recipe and metric (default 1s)' }),
    signals: z
      .array(z.enum(METRIC_SIGNALS, { error: `one of ${METRIC_SIGNALS.join(', ')}` }), { error: 'a list of signals' })
      .optional()
      .meta({ description: 'signals kept open for the metrics, besides those the recipes read (default sched, futex, psi)' }),
    backend: z.enum(['auto', 'bpf', 'bpftrace'], { error: 'one of "auto", "bpf", "bpftrace"' }).optional(),
    metrics: z
      .strictObject({
        listen: listen.optional().meta({ description: `address of /metrics, /healthz and /readyz (default ${DEFAULT_LISTEN}: loopback)` }),
        cgroups: z
          .strictObject({
            paths: z
              .array(
                z
                  .string({ error: 'a cgroup path like "/system.slice/nginx.service"' })
                  .regex(/^\//, { error: 'a cgroup path starting with "/"' }),
                { error: 'a list of cgroup paths' },
              )
              .optional()
              .meta({ description: 'cgroups that always get their own series (paths relative to the cgroup root)' }),
            top: num(0, 10_000, true)
              .optional()
              .meta({ description: 'besides those, at most this many cgroups by run-queue wait (default 50)' }),
            idle_after: duration.optional().meta({ description: 'a cgroup with no activity this long gives its slot up (default 5m)' }),
          })
          .optional(),
      })
      .optional(),
    log_level: z.enum(['debug', 'info', 'warn', 'error'], { error: 'one of "debug", "info", "warn", "error"' }).optional(),
    strategy: z.enum(['heuristic', 'learned'], { error: 'one of "heuristic" or "learned"' }).optional().meta({
      description: "how every recipe with an objective decides (overrides the recipes' strategy; recipes without one keep the rules)",
    }),
  })
  .meta({ title: 'tuner agent config' });

export interface AgentConfig {
  file?: string;
  recipesDir: string;
  intervalMs: number;
  signals: Array<(typeof METRIC_SIGNALS)[number]>;
  backend: 'auto' | 'bpf' | 'bpftrace';
  listen: { host: string; port: number };
  cgroups: { paths: string[]; top: number; idleAfterMs: number };
  /** Overrides the recipes' strategy (for recipes with an objective). */
  strategy?: 'heuristic' | 'learned';
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export function formatConfigProblem(file: string, p: Problem): string {
  const where = `config ${JSON.stringify(file)}${p.line !== undefined ? `, line ${p.line}` : ''}`;
  return `${where}: ${p.path.length > 0 ? `${dotted(p.path)}: ` : ''}expected ${p.expected}, got ${p.found}`;
}

/** A bad config: every problem, one per line. Exit code 2. */
export class ConfigError extends UsageError {
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(problems.map((p) => formatConfigProblem(file, p)).join('\n'));
  }
}

export function parseListen(text: string, what: string): { host: string; port: number } {
  const m = LISTEN_RE.exec(text);
  if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) throw new UsageError(`${what}: expected ${LISTEN_TEXT}, got ${JSON.stringify(text)}`);
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

/** Check a config's text; throws ConfigError listing every problem. */
export function parseAgentConfig(text: string, file: string): AgentConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const syntax = doc.errors.map((e): Problem => ({
    ...error(
      [],
      e.code === 'DUPLICATE_KEY' ? 'each key at most once in a mapping' : 'valid YAML',
      e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
    ),
    line: e.linePos?.[0]?.line ?? (e.pos ? lc.linePos(e.pos[0]).line : undefined),
  }));
  if (syntax.length > 0) throw new ConfigError(file, syntax);
  const data: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  if (typeof data !== 'object' || Array.isArray(data))
    throw new ConfigError(file, [{ ...error([], 'a mapping of settings', describe(data)), line: 1 }]);
  const parsed = agentConfigSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((i) => problemsOf(i, data, (p) => keysAt(agentConfigSchema, p, data)));
    for (const p of problems) p.line ??= lineAt(doc, lc, p.path, p.atKey);
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new ConfigError(file, problems);
  }
  const c = parsed.data;
  const intervalMs = durationMs(c.interval ?? '1s');
  if (intervalMs < 100)
    throw new ConfigError(file, [
      { ...error(['interval'], 'at least 100ms', JSON.stringify(c.interval)), line: lineAt(doc, lc, ['interval']) },
    ]);
  return {
    file,
    recipesDir: c.recipes ?? DEFAULT_RECIPES_DIR,
    intervalMs,
    signals: c.signals ?? ['sched', 'futex', 'psi'],
    backend: c.backend ?? 'auto',
    listen: parseListen(c.metrics?.listen ?? DEFAULT_LISTEN, `config ${JSON.stringify(file)}: metrics.listen`),
    cgroups: {
      paths: c.metrics?.cgroups?.paths ?? [],
      top: c.metrics?.cgroups?.top ?? 50,
      idleAfterMs: durationMs(c.metrics?.cgroups?.idle_after ?? '5m'),
    },
    logLevel: c.log_level ?? 'info',
    ...(c.strategy ? { strategy: c.strategy } : {}),
  };
}

/** The config file, or the defaults when no file was named and the default one does not exist. */
export function loadAgentConfig(file: string | undefined): AgentConfig {
  const path = file ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (file === undefined && code === 'ENOENT') return { ...parseAgentConfig('{}', path), file: undefined };
    throw new ConfigError(path, [
      error([], 'a readable config file', code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : String(code ?? err)),
    ]);
  }
  return parseAgentConfig(text, path);
}
