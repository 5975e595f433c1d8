/**
 * The packaging, checked offline: the Kubernetes manifests against the API
 * schemas (kubernetes-models ships them), the systemd unit with
 * `systemd-analyze verify`, the Grafana dashboard against the metrics the
 * agent exports, the sample config and recipes with the agent's own parsers.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseAgentConfig } from '../../src/agent/config.js';
import { parseRecipe } from '../../src/recipes/load.js';
import { AgentMetrics } from '../../src/metrics/agent-metrics.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K8S = path.join(ROOT, 'deploy', 'kubernetes');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };

function manifests(): Manifest[] {
  return readdirSync(K8S)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(path.join(K8S, f), 'utf8')).map((d) => d.toJS() as Manifest));
}

const modulePath = (m: Manifest): string => {
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : [undefined, m.apiVersion];
  return `kubernetes-models/${group ? `${group}/` : ''}${version}/${m.kind}`;
};

/** Validate against the API schema of its kind (types, formats, required fields); throws with the schema's errors. */
async function validate(m: Manifest): Promise<void> {
  const mod = (await import(modulePath(m))) as Record<string, new (o: unknown) => { validate(): void }>;
  new mod[m.kind]!(m).validate();
}

/**
 * The schema validators accept unknown fields; the same package's API types
 * do not: type-check every manifest as an object literal of its kind
 * (excess property checks), so a misspelled field fails too.
 */
async function typeCheck(ms: readonly Manifest[]): Promise<string> {
  const dir = path.join(ROOT, '.cache', `k8s-check-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const lines = ms.map(
      (m, i) => `import type { I${m.kind} as T${i} } from '${modulePath(m)}';\nexport const m${i}: T${i} = ${JSON.stringify(m, null, 1)};`,
    );
    writeFileSync(path.join(dir, 'manifests.ts'), lines.join('\n') + '\n');
    const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
    const r = await execa(
      tsc,
      [
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        path.join(dir, 'manifests.ts'),
      ],
      { reject: false },
    );
    return r.stdout + r.stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('deploy/kubernetes', () => {
  it('every manifest validates against the Kubernetes API schema', { timeout: 60_000 }, async () => {
    const all = manifests();
    expect(all.map((m) => m.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'DaemonSet', 'Namespace', 'ServiceAccount']);
    for (const m of all) await validate(m);
    expect(await typeCheck(all)).toBe('');
  });

  it('the validation catches a wrong field (the check can fail)', { timeout: 60_000 }, async () => {
    const ds = manifests().find((m) => m.kind === 'DaemonSet')!;
    const bad = structuredClone(ds) as any;
    bad.spec.template.spec.containers[0].resources.limits.memory = { mb: 256 };
    await expect(validate(bad)).rejects.toThrow();
    const typo = structuredClone(ds) as any;
    typo.spec.template.spec.hostPid = true;
    delete typo.spec.template.spec.hostPID;
    expect(await typeCheck([typo])).toMatch(/hostPid.*does not exist in type 'IPodSpec'/);
  });

  it('the DaemonSet is what the agent needs: host PID, read-only host paths, named capabilities, probes, scrape annotations', () => {
    const ds = manifests().find((m) => m.kind === 'DaemonSet') as any;
    const pod = ds.spec.template.spec;
    const c = pod.containers[0];
    expect(pod.hostPID).toBe(true);
    expect(c.securityContext.privileged).toBe(false);
    expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
    expect(c.securityContext.capabilities.add).toEqual(['BPF', 'PERFMON', 'SYS_ADMIN', 'SYS_PTRACE', 'SYS_NICE']);
    const mounts = Object.fromEntries(c.volumeMounts.map((v: any) => [v.mountPath, v.readOnly === true]));
    expect(mounts).toMatchObject({ '/sys/kernel/btf': true, '/sys/fs/bpf': true, '/sys/fs/cgroup': true, '/etc/tuner/recipes': true });
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(ds.spec.template.metadata.annotations['prometheus.io/scrape']).toBe('true');
    expect(c.resources.limits.memory).toBeDefined();
  });

  it('the ConfigMap holds a valid agent config and valid recipes', () => {
    const maps = manifests().filter((m) => m.kind === 'ConfigMap') as any[];
    const config = maps.find((m) => m.metadata.name === 'tuner-config');
    expect(parseAgentConfig(config.data['agent.yaml'], 'agent.yaml').listen.port).toBe(9477);
    const recipes = maps.find((m) => m.metadata.name === 'tuner-recipes');
    for (const [file, text] of Object.entries(recipes.data as Record<string, string>)) {
      const r = parseRecipe(text, file, { asRoot: false });
      expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
      expect(r.recipe?.apply).toBe(false);
    }
  });
});

describe('deploy/systemd/tuner.service', () => {
  it('passes systemd-analyze verify', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tuner-unit-'));
    // verify also checks that ExecStart's binary exists: point it at this checkout's CLI.
    const unit = readFileSync(path.join(ROOT, 'deploy/systemd/tuner.service'), 'utf8').replaceAll(
      '/usr/bin/tuner',
      path.join(ROOT, 'dist/cli.js'),
    );
    writeFileSync(path.join(dir, 'tuner.service'), unit);
    const r = await execa('systemd-analyze', ['verify', path.join(dir, 'tuner.service')], { reject: false });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    // And it notices a broken unit: a warning for a bad value, an error for a missing binary.
    writeFileSync(path.join(dir, 'tuner.service'), unit.replace('Type=notify', 'Type=notify-ish'));
    const bad = await execa('systemd-analyze', ['verify', path.join(dir, 'tuner.service')], { reject: false });
    expect(bad.stderr).toMatch(/service type.*notify-ish/);
    writeFileSync(path.join(dir, 'tuner.service'), unit.replace(path.join(ROOT, 'dist/cli.js'), '/nonexistent/tuner'));
    const missing = await execa('systemd-analyze', ['verify', path.join(dir, 'tuner.service')], { reject: false });
    expect(missing.exitCode).not.toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is hardened: no new privileges, strict filesystem, named capabilities, memory limit, restart', () => {
    const unit = readFileSync(path.join(ROOT, 'deploy/systemd/tuner.service'), 'utf8');
    const set = (k: string): string | undefined => new RegExp(`^${k}=(.*)$`, 'm').exec(unit)?.[1];
    expect(set('NoNewPrivileges')).toBe('yes');
    expect(set('ProtectSystem')).toBe('strict');
    expect(set('PrivateTmp')).toBe('yes');
    expect(set('CapabilityBoundingSet')).toBe('CAP_BPF CAP_PERFMON CAP_SYS_ADMIN CAP_SYS_NICE CAP_SYS_PTRACE');
    expect(set('MemoryMax')).toMatch(/^\d+M$/);
    expect(set('Restart')).toBe('on-failure');
    expect(set('Type')).toBe('notify');
  });
});

describe('deploy/grafana/tuner.json', () => {
  it('queries only metric families the agent exports', async () => {
    const dash = JSON.parse(readFileSync(path.join(ROOT, 'deploy/grafana/tuner.json'), 'utf8')) as {
      panels: Array<{ targets?: Array<{ expr: string }> }>;
    };
    const m = new AgentMetrics({
      cgroups: { paths: [], top: 1, idleAfterMs: 1 },
      cgroupExists: () => true,
      helperPids: () => [],
      version: 't',
    });
    const families = new Set(m.registry.getMetricsAsArray().map((x) => x.name));
    const exprs = dash.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    expect(exprs.length).toBeGreaterThan(5);
    for (const e of exprs) {
      for (const name of e.match(/\btuner_[a-z_]+/g) ?? []) {
        expect(families.has(name.replace(/_(bucket|sum|count)$/, '')) || families.has(name), `${name} in ${e}`).toBe(true);
      }
    }
  });
});

describe('deploy/Containerfile', () => {
  it('copies only what the repository has, and starts the agent', () => {
    const text = readFileSync(path.join(ROOT, 'deploy/Containerfile'), 'utf8');
    const copies = [...text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(copies.length).toBeGreaterThan(4);
    for (const src of copies) {
      if (src.includes('*')) {
        const dir = path.dirname(src);
        const re = new RegExp(`^${path.basename(src).replaceAll('.', '\\.').replaceAll('*', '.*')}$`);
        expect(
          readdirSync(path.join(ROOT, dir)).some((f) => re.test(f)),
          src,
        ).toBe(true);
      } else expect(() => readFileSync(path.join(ROOT, src)) ?? readdirSync(path.join(ROOT, src)), src).not.toThrow(/ENOENT/);
    }
    expect(text).toMatch(/^CMD \["agent", "--config", "\/etc\/tuner\/agent.yaml"\]$/m);
  });
});
