/**
 * A task outside a test's scope that waits for a CPU: one spinner in a cgroup of its own with a quarter of the
 * default CPU weight (v2 cpu.weight 25, v1 cpu.shares 256), so on a CPU it shares with the scope it waits about
 * 80% of the time and takes little. Not the lowest weight: a wait counts when it ends, and a task that almost
 * never runs ends a wait once every few seconds. `psi-backoff.yaml` acts only while tasks outside its scope wait.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { makeCgroup, type TestCgroupTree } from './cgroups.js';
import { start, type Running } from './workloads.js';

export async function waitingOutsider(mount: string, opts: { cpus?: string } = {}): Promise<{ cg: TestCgroupTree; spin: Running }> {
  const cg = makeCgroup(mount);
  try {
    if (existsSync(path.join(cg.path, 'cpu.weight'))) cg.write('cpu.weight', '25');
    else cg.write('cpu.shares', '256');
    const spin = await start('spin', [1, 0], opts);
    cg.add(spin.pid);
    return { cg, spin };
  } catch (err) {
    cg.remove();
    throw err;
  }
}
