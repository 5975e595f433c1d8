/**
 * Running a BPF iterator = reading its pinned link to the end. The output of
 * a large one (the sched dump: about 470 bytes per process) is read into a
 * buffer kept from one run to the next, so a read of megabytes allocates
 * nothing and touches no fresh pages once the buffer has grown. Synchronous:
 * fs.promises reads of a file of unknown size take several thread-pool round
 * trips per run, a third of an idle `watch sched`'s CPU when it used them.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** Start size of a buffer; it doubles when an output does not fit. */
const INITIAL = 64 * 1024;

export class IterBuffer {
  private buf = Buffer.allocUnsafeSlow(INITIAL);

  /** Run the iterator pinned at `link`; the result is a view of this buffer, valid until its next read. */
  read(link: string): Buffer {
    const fd = openSync(link, 'r');
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
