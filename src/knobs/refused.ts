/**
 * A knob the kernel refused to change (EPERM, EACCES, EINVAL, ERANGE, EROFS):
 * a definitive answer, not a transient failure, so the same write is not
 * worth repeating. Messages name the knob, the value, the errno and, where
 * one is the usual cause, what to check.
 */
import { CAP_SYS_NICE, effectiveCaps, hasCap } from '../procfs/caps.js';

const REFUSALS: Record<string, string> = {
  EPERM: 'operation not permitted',
  EACCES: 'permission denied',
  EINVAL: 'invalid argument',
  ERANGE: 'result out of range',
  EROFS: 'read-only file system',
};

/** strerror texts tools print (taskset, migratepages), by errno name. */
const STRERROR: Record<string, string> = {
  'Operation not permitted': 'EPERM',
  'Permission denied': 'EACCES',
  'Invalid argument': 'EINVAL',
  'Numerical result out of range': 'ERANGE',
  'Read-only file system': 'EROFS',
};

export class KnobRefused extends Error {
  constructor(
    message: string,
    readonly errno: string,
  ) {
    super(message);
  }
}

/** Without CAP_SYS_NICE, the affinity and pages of another user's tasks cannot be changed. */
function niceHint(): string {
  return hasCap(effectiveCaps(), CAP_SYS_NICE) ? '' : ": tuner runs without CAP_SYS_NICE, which changing another user's tasks needs";
}

/** A failed write of `value` to the file `file`: a KnobRefused for a refusal, else the error with the file named. */
export function fileWriteError(file: string, value: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && code in REFUSALS) return new KnobRefused(`${file} refused ${value}: ${code} (${REFUSALS[code]})`, code);
  return new Error(`writing ${value} to ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/**
 * A tool (`argv`) that failed to change a task's affinity or pages: a
 * KnobRefused when its stderr names a refusal, else a plain error with it.
 */
export function toolWriteError(what: string, argv: readonly string[], stderr: string, exitCode: number | undefined): Error {
  const text = stderr.trim().split('\n').slice(-1)[0] ?? '';
  const found = Object.entries(STRERROR).find(([s]) => text.includes(s));
  if (found) {
    const errno = found[1];
    return new KnobRefused(
      `${what}: ${argv.join(' ')} was refused: ${errno} (${REFUSALS[errno]})${errno === 'EPERM' ? niceHint() : ''}`,
      errno,
    );
  }
  return new Error(`${what}: ${argv.join(' ')} failed: ${text || `exit ${exitCode}`}`);
}
