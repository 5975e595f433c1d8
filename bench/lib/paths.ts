/** Where the benchmark finds the tuner it measures (the built checkout it lives in) and keeps its files. */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root (this file runs from dist/bench/lib/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The built CLI, run as users run it. */
export const CLI = path.join(ROOT, 'dist', 'cli.js');

/** Built library modules of tuner, imported by the scale phase. */
export const DIST = path.join(ROOT, 'dist');

export const BENCH_SRC = path.join(ROOT, 'bench');

/** Compiled workloads and bench-only objects. */
export const CACHE = path.join(ROOT, '.cache', 'bench');

/** The bpftrace yardstick. */
export const RUNQLAT_BT = path.join(ROOT, 'probes', 'runqlat.bt');

/** Prefix of every pin directory of the benchmark and of the tuners it starts (unique per run, removed at the end). */
export const PIN_ROOT = `/sys/fs/bpf/tuner-bench-${process.pid}`;
