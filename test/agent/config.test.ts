import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadAgentConfig, parseAgentConfig, parseListen } from '../../src/agent/config.js';
import { UsageError } from '../../src/errors.js';

/** Temporary directories of these tests, removed when the file is done. */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = (prefix: string): string => {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};

function problems(text: string): string[] {
  try {
    parseAgentConfig(text, 'agent.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    return (err as Error).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('agent config', () => {
  it('fills the defaults: loopback, 1s, top 50, sched futex psi', () => {
    const c = parseAgentConfig('', 'agent.yaml');
    expect(c).toMatchObject({
      recipesDir: '/etc/tuner/recipes',
      intervalMs: 1000,
      signals: ['sched', 'futex', 'psi'],
      backend: 'auto',
      listen: { host: '127.0.0.1', port: 9477 },
      cgroups: { paths: [], top: 50, idleAfterMs: 300_000 },
      logLevel: 'info',
    });
  });

  it('reads every setting', () => {
    const c = parseAgentConfig(
      'recipes: /srv/r\ninterval: 2s\nsignals: [sched, io]\nbackend: bpf\nmetrics:\n  listen: "[::1]:9100"\n  cgroups:\n    paths: [/system.slice/a.service]\n    top: 5\n    idle_after: 1m\nlog_level: debug\n',
      'agent.yaml',
    );
    expect(c).toMatchObject({
      recipesDir: '/srv/r',
      intervalMs: 2000,
      signals: ['sched', 'io'],
      backend: 'bpf',
      listen: { host: '::1', port: 9100 },
      cgroups: { paths: ['/system.slice/a.service'], top: 5, idleAfterMs: 60_000 },
      logLevel: 'debug',
    });
  });

  it.each([
    ['interval: 5\n', 'config "agent.yaml", line 1: interval: expected a duration like "500ms", "5s" or "2m", got 5 (number)'],
    ['interval: 50ms\n', 'config "agent.yaml", line 1: interval: expected at least 100ms, got "50ms"'],
    [
      'metrics:\n  listen: 0.0.0.0:70000\n',
      'config "agent.yaml", line 2: metrics.listen: expected HOST:PORT, like "127.0.0.1:9477" or "[::1]:9477" (port 1 to 65535), got "0.0.0.0:70000" (string)',
    ],
    [
      'metrics:\n  cgroups:\n    top: -1\n',
      'config "agent.yaml", line 3: metrics.cgroups.top: expected a whole number from 0 to 10000, got -1 (number)',
    ],
    [
      'metrics:\n  cgroups:\n    paths: [system.slice]\n',
      'config "agent.yaml", line 3: metrics.cgroups.paths[0]: expected a cgroup path starting with "/", got "system.slice" (string)',
    ],
    [
      'signals: [sched, events]\n',
      'config "agent.yaml", line 1: signals[1]: expected one of sched, futex, io, net, psi, got "events" (string)',
    ],
    [
      'recipe: /x\n',
      'config "agent.yaml", line 1: recipe: expected one of the keys recipes, interval, signals, backend, metrics, log_level, strategy (did you mean "recipes"?), got the unknown key "recipe"',
    ],
    ['interval: 1s\ninterval: 2s\n', 'config "agent.yaml", line 2: expected each key at most once in a mapping'],
    ['- 1\n', 'config "agent.yaml", line 1: expected a mapping of settings, got a list of 1'],
  ])('%j -> %s', (text, first) => {
    expect(problems(text)[0]).toContain(first);
  });

  it('reports every problem, in line order', () => {
    expect(problems('interval: x\nbackend: ebpf\n')).toHaveLength(2);
  });

  it('uses the defaults only when no file was named and the default one is missing', () => {
    const dir = tempDir('tuner-agent-config-');
    expect(() => loadAgentConfig(path.join(dir, 'missing.yaml'))).toThrow(
      /config ".*missing.yaml": expected a readable config file, got no such file/,
    );
    writeFileSync(path.join(dir, 'a.yaml'), 'interval: 3s\n');
    expect(loadAgentConfig(path.join(dir, 'a.yaml')).intervalMs).toBe(3000);
  });

  it('parses --metrics-listen', () => {
    expect(parseListen('0.0.0.0:9477', '--metrics-listen')).toEqual({ host: '0.0.0.0', port: 9477 });
    expect(() => parseListen('9477', '--metrics-listen')).toThrow(UsageError);
  });
});

describe('tuner agent on bad input', () => {
  it('exits 2 with the file, line and path, before starting anything', async () => {
    const { tuner } = await import('../helpers/cli.js');
    const dir = tempDir('tuner-agent-cli-');
    writeFileSync(path.join(dir, 'agent.yaml'), 'metrics:\n  cgroups:\n    top: many\n');
    const r = await tuner(['agent', '--config', path.join(dir, 'agent.yaml')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      `config "${path.join(dir, 'agent.yaml')}", line 3: metrics.cgroups.top: expected a whole number from 0 to 10000, got "many" (string)`,
    );
    expect(r.stdout).toBe('');
    const missing = await tuner(['agent', '--recipes', path.join(dir, 'nope'), '--metrics-listen', '127.0.0.1:1']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('--recipes');
    const flag = await tuner(['agent', '--metrics-listen', 'localhost']);
    expect(flag.exitCode).toBe(2);
  });
});
