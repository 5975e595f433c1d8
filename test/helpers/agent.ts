/**
 * The agent as the kernel tests run it: the built CLI started with a config
 * and a recipes directory of the test's own, its JSON log collected, its
 * HTTP endpoints polled; and a Prometheus of the test's own (Debian's
 * package), on loopback, scraping it. Only the PIDs started here are
 * signalled.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { CLI } from './cli.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Poll until `f` returns a value (not undefined), or fail after `ms`. */
export async function until<T>(what: string, f: () => Promise<T | undefined>, ms: number, every = 250): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(every);
  }
}

export interface RunningAgent {
  port: number;
  dir: string;
  recipesDir: string;
  proc: ResultPromise;
  /** Parsed JSON log lines so far. */
  log: Array<Record<string, unknown>>;
  get(p: string): Promise<{ status: number; body: string }>;
  stop(): Promise<{ exitCode: number | undefined }>;
}

/**
 * Start `tuner agent` and wait for /readyz. The config holds `recipes:` (a
 * directory of its own with `recipes`), `metrics.listen` (a free loopback
 * port), `metrics` lines of `metricsLines` (indented two spaces) and the
 * top-level lines of `config`.
 */
export async function startAgent(
  config: string,
  metricsLines = '',
  recipes: Record<string, string> = {},
  env: Record<string, string> = {},
): Promise<RunningAgent> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tuner-agent-test-'));
  chmodSync(dir, 0o755);
  const recipesDir = path.join(dir, 'recipes');
  mkdirSync(recipesDir, { mode: 0o755 });
  for (const [name, text] of Object.entries(recipes)) writeFileSync(path.join(recipesDir, name), text, { mode: 0o644 });
  const port = await freePort();
  const file = path.join(dir, 'agent.yaml');
  writeFileSync(file, `recipes: ${recipesDir}\nmetrics:\n  listen: 127.0.0.1:${port}\n${metricsLines}${config}`, { mode: 0o644 });
  const proc = execa('node', [CLI, 'agent', '--config', file], {
    reject: false,
    env,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false },
  });
  const log: Array<Record<string, unknown>> = [];
  let buf = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (c: string) => {
    buf += c;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        log.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        log.push({ unparsed: line });
      }
    }
  });
  const get = async (p: string): Promise<{ status: number; body: string }> => {
    const r = await fetch(`http://127.0.0.1:${port}${p}`);
    return { status: r.status, body: await r.text() };
  };
  let exited = false;
  void proc.then(() => (exited = true));
  await until(
    'the agent to be ready',
    async () => {
      if (exited) throw new Error(`the agent exited: ${String((await proc).stderr)}`);
      return (await get('/readyz')).status === 200 ? true : undefined;
    },
    60_000,
  );
  return {
    port,
    dir,
    recipesDir,
    proc,
    log,
    get,
    async stop() {
      if (proc.exitCode === null && !exited) proc.kill('SIGTERM');
      const r = await proc;
      rmSync(dir, { recursive: true, force: true });
      return { exitCode: r.exitCode };
    },
  };
}

export interface RunningPrometheus {
  url: string;
  query(
    q: string,
    at?: number,
  ): Promise<Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }>>;
  stop(): Promise<void>;
}

/** Debian's prometheus on loopback, its own port and data directory, scraping `target` every second. */
export async function startPrometheus(target: string): Promise<RunningPrometheus> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tuner-prometheus-'));
  const port = await freePort();
  const cfg = path.join(dir, 'prometheus.yml');
  writeFileSync(
    cfg,
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: tuner\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  const proc = execa(
    'prometheus',
    [`--config.file=${cfg}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' },
  );
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  void proc.then(() => (exited = true));
  await until(
    'prometheus to be ready',
    async () => {
      if (exited) throw new Error(`prometheus exited: ${String((await proc).stderr)}`);
      return (await fetch(`${url}/-/ready`)).status === 200 ? true : undefined;
    },
    30_000,
  );
  return {
    url,
    async query(q, at) {
      const u = new URL('/api/v1/query', url);
      u.searchParams.set('query', q);
      if (at !== undefined) u.searchParams.set('time', String(at));
      const r = (await (await fetch(u)).json()) as { status: string; error?: string; data: { result: never[] } };
      if (r.status !== 'success') throw new Error(`prometheus query ${q}: ${r.error}`);
      return r.data.result;
    },
    async stop() {
      if (!exited) proc.kill('SIGTERM');
      await proc;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
