/** Where tuner's files are: the shipped objects and probes, and its pins in bpffs. */
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { KernelError } from '../errors.js';

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

/**
 * Make a pin directory (and its parents). A bpffs that is read-only (a
 * service's ProtectKernelTunables=, a container's read-only mount) or a pin
 * root that cannot be made is a diagnosis naming the path, not an internal error.
 */
export function makePinDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = realCause(dir, err);
    const why: Record<string, string> = {
      EROFS: 'the file system is mounted read-only',
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      ENOENT: 'a parent directory does not exist',
      ENOTDIR: 'a parent is not a directory',
      ENOSPC: 'no space left',
    };
    if (code === undefined || !(code in why)) throw err;
    throw new KernelError(`cannot make the pin directory ${dir}: ${why[code]} (${code})`, {
      hint: `tuner pins its BPF objects under ${PIN_ROOT} (TUNER_PIN_ROOT): it must be writable bpffs (mount -t bpf bpf ${path.dirname(PIN_ROOT)}; under systemd, in ReadWritePaths= and not behind ProtectKernelTunables=)`,
    });
  }
}

/** A recursive mkdir reports ENOENT when a parent cannot be made: make the first missing one alone for its own error. */
function realCause(dir: string, err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'ENOENT') return code;
  let missing = dir;
  while (!existsSync(path.dirname(missing)) && path.dirname(missing) !== missing) missing = path.dirname(missing);
  try {
    mkdirSync(missing);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? code;
  }
  rmdirSync(missing); // it could be made after all: leave nothing behind
  return code;
}
