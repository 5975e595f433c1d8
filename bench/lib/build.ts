/**
 * What the benchmark compiles before it measures: the bench-only BPF objects
 * (bench/bpf/, by the rule and flags of bpf/Makefile) and the C workloads
 * (bench/workloads/, into .cache/bench/).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { BENCH_SRC, CACHE } from './paths.js';
import { run } from './spawn.js';

export async function buildBenchObjects(): Promise<void> {
  await run('make', ['-s', '-C', path.join(BENCH_SRC, 'bpf')]);
}

/** Path of a compiled workload, compiling it when missing or older than its source. */
export async function workload(name: string): Promise<string> {
  const src = path.join(BENCH_SRC, 'workloads', `${name}.c`);
  const bin = path.join(CACHE, name);
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
    mkdirSync(CACHE, { recursive: true });
    await run('cc', ['-O2', '-pthread', '-Wall', '-o', bin, src]);
  }
  return bin;
}
