/**
 * The machine a profile was recorded on. `compare` warns loudly when BASE and
 * NEW differ in what changes the numbers (kernel, CPUs, tuner version): such
 * a comparison measures the machines as much as the change.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Environment {
  kernel: string;
  kernel_build: string;
  arch: string;
  cpus: number;
  cpu_model: string;
  memory_bytes: number;
  tool: { name: string; version: string };
  node: string;
  hostname: string;
  date: string;
}

/** tuner's version, from its package.json (two levels above this module, in src/ and in dist/). */
export function toolVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** CPUs this process may run on (what the workload gets), not every CPU the machine has. */
function usableCpus(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

export function collectEnvironment(now = new Date()): Environment {
  const cpus = os.cpus();
  return {
    kernel: os.release(),
    kernel_build: os.version(),
    arch: os.arch(),
    cpus: usableCpus(),
    cpu_model: (cpus[0]?.model ?? 'unknown').trim(),
    memory_bytes: os.totalmem(),
    tool: { name: 'tuner', version: toolVersion() },
    node: process.version,
    hostname: os.hostname(),
    date: now.toISOString(),
  };
}

/** Fields that must match for two profiles to be comparable without a warning. */
const COMPARED: Array<[string, (e: Environment) => string]> = [
  ['kernel', (e) => e.kernel],
  ['arch', (e) => e.arch],
  ['cpus', (e) => String(e.cpus)],
  ['cpu_model', (e) => e.cpu_model],
  ['tuner version', (e) => e.tool.version],
];

export interface EnvDifference {
  field: string;
  base: string;
  new: string;
}

export function environmentDifferences(base: Environment, next: Environment): EnvDifference[] {
  return COMPARED.filter(([, f]) => f(base) !== f(next)).map(([field, f]) => ({ field, base: f(base), new: f(next) }));
}
