/**
 * Running a BPF iterator = reading its pinned link to the end. The output of
 * a large one (the sched dump: up to about 500 bytes per changed process) is read into a
 * buffer kept from one run to the next, so a read of megabytes allocates
 * nothing and touches no fresh pages once the buffer has grown. Synchronous:
 * fs.promises reads of a file of unknown size take several thread-pool round
 * trips per run, a third of an idle `watch sched`'s CPU when it used them.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { KernelError } from '../errors.js';

/** Start size of a buffer; it doubles when an output does not fit. */
const INITIAL = 64 * 1024;

export class IterBuffer {
  private buf = Buffer.allocUnsafeSlow(INITIAL);

  /** Run the iterator pinned at `link`; the result is a view of this buffer, valid until its next read. */
  read(link: string): Buffer {
    const fd = openPinned(link);
    try {
      let len = 0;
      for (;;) {
        if (len === this.buf.length) {
          const bigger = Buffer.allocUnsafeSlow(this.buf.length * 2);
          this.buf.copy(bigger, 0, 0, len);
          this.buf = bigger;
        }
        const n = readSync(fd, this.buf, len, this.buf.length - len, null);
        if (n === 0) return this.buf.subarray(0, len);
        len += n;
      }
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * The pin at `link` disappeared under the run (its bpffs unmounted, the pin
 * removed): a KernelError saying so, for a message and a revert, not a crash.
 */
function pinGone(link: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'ENOENT' && code !== 'ENOTDIR') return err;
  return new KernelError(
    `the pinned BPF iterator ${link} is gone (${code}): its bpffs was unmounted or the pin removed while tuner ran, so tuner cannot read its signals`,
    { cause: err },
  );
}

function openPinned(link: string): number {
  try {
    return openSync(link, 'r');
  } catch (err) {
    throw pinGone(link, err);
  }
}

/** Run a small iterator (one short line of output) pinned at `link`. */
export function readPinned(link: string): string {
  try {
    return readFileSync(link, 'utf8');
  } catch (err) {
    throw pinGone(link, err);
  }
}
