/** Where tuner's files are: the shipped objects and probes, and its pins in bpffs. */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The package root (works from src/ under vitest and from dist/ when installed). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every pin tuner makes lives under this directory; nothing else in bpffs is touched. */
export const PIN_ROOT = process.env.TUNER_PIN_ROOT ?? '/sys/fs/bpf/tuner';

/** The built CO-RE object of a signal: bpf/<name>.bpf.o. */
export function objectPath(name: string): string {
  return path.join(PACKAGE_ROOT, 'bpf', `${name}.bpf.o`);
}

/** A bpftrace script: probes/<name>.bt. */
export function probePath(name: string): string {
  return path.join(PACKAGE_ROOT, 'probes', `${name}.bt`);
}
