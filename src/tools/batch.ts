/**
 * A long-lived `bpftool -jp batch file -` that answers one command at a time
 * in about 0.1 ms instead of a 2 ms process start.
 *
 * Buffering: bpftool buffers stdout on a pipe and does not flush between
 * batch commands. `stdbuf -o0` fixes that but turns every JSON token into its
 * own write(2): 55,000 writes for a 44 KB map dump, measured. Pretty output
 * (-p) under line buffering (`stdbuf -oL`) flushes each line instead: 850
 * writes for the same dump, and still nothing waits in the buffer at the end
 * of a command, because the last line of an element ends with a newline
 * once the next element starts.
 *
 * Framing: batch output is one JSON array, element by element. After each
 * command we send `version`; the opening of the version element marks the
 * end of the previous element, which is then parsed on its own. On a failing
 * command bpftool prints the error element and exits; the pending request is
 * rejected with that error and the next request restarts the process.
 *
 * Cost: line buffering hands us a large dump in thousands of small chunks.
 * They are kept in a list and joined only when a chunk holds the start of an
 * element (the only thing that can complete a request), so a dump of n bytes
 * costs O(n), not O(n^2) (a search of the whole buffer per chunk: 2.3 s for
 * 1,000 processes in sched_procs, measured by `npm run bench`).
 */
import { ToolError } from '../errors.js';
import { parseJson } from './json.js';
import { startTool, type LongRunning } from './run.js';

/** Start of a batch element, and of the sentinel element (whitespace-insensitive: pretty output). */
const ELEMENT = /\{\s*"command"\s*:\s*\[/g;
const SENTINEL = /\{\s*"command"\s*:\s*\[\s*"version"/g;
/** Characters kept from previous chunks to find an element start split across two chunks (pretty output: well under 100). */
const TAIL = 256;

function find(re: RegExp, text: string, from: number): { index: number; end: number } | undefined {
  re.lastIndex = from;
  const m = re.exec(text);
  return m ? { index: m.index, end: m.index + m[0].length } : undefined;
}

/** Whether re has a match in text that ends after position `from`. */
function endsAfter(re: RegExp, text: string, from: number): boolean {
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) if (m.index + m[0].length > from) return true;
  return false;
}

interface Pending {
  argv: string[];
  resolve: (output: unknown) => void;
  reject: (err: Error) => void;
}

export class BpftoolBatch {
  private proc: LongRunning | undefined;
  private buf = '';
  /** Chunks received since the last drain, not yet appended to buf. */
  private parts: string[] = [];
  /** The last TAIL characters received. */
  private tail = '';
  /** Where the search for the next sentinel resumes (the buffer before it holds none). */
  private scanFrom = 0;
  private stderr = '';
  private queue: Pending[] = [];
  private closed = false;

  /** Run one bpftool command (without the `bpftool -j` prefix); resolves to its JSON output. */
  request(words: readonly string[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('bpftool batch is closed'));
    for (const w of words) {
      if (/[\s"'\\]/.test(w) || w === '') throw new Error(`bpftool batch: unsupported argument ${JSON.stringify(w)}`);
    }
    const proc = this.ensure();
    const stdin = proc.child.stdin;
    // Requests made in the same tick (a reader's dumps, asked together) go out in one write(2): one wake-up of bpftool.
    if (stdin && !stdin.writableCorked) {
      stdin.cork();
      process.nextTick(() => stdin.uncork());
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ argv: ['bpftool', '-j', ...words], resolve, reject });
      stdin?.write(`${words.join(' ')}\nversion\n`);
    });
  }

  /** Start the bpftool process now, e.g. while something else loads, rather than at the first request. */
  start(): void {
    if (!this.closed) this.ensure();
  }

  /** The PID of the bpftool process, when running (for the benchmark's process-tree accounting). */
  get pid(): number | undefined {
    return this.proc?.child.pid;
  }

  close(): void {
    this.closed = true;
    this.stop();
  }

  /**
   * End the bpftool process while nothing is asked of it (its memory goes
   * with it: 10 to 30 MB once it has read the kernel's BTF); the next
   * request starts another. For readers that need bpftool only to set up.
   */
  release(): void {
    if (this.queue.length === 0) this.stop();
  }

  private stop(): void {
    const proc = this.proc;
    this.proc = undefined;
    if (proc) {
      proc.child.stdin?.end();
      proc.child.kill('SIGTERM');
    }
  }

  private ensure(): LongRunning {
    if (this.proc) return this.proc;
    const proc = startTool('stdbuf', ['-oL', 'bpftool', '-jp', 'batch', 'file', '-'], { stdin: 'pipe' });
    this.proc = proc;
    this.buf = '';
    this.parts = [];
    this.tail = '';
    this.scanFrom = 0;
    this.stderr = '';
    proc.child.stdout?.setEncoding('utf8');
    proc.child.stdout?.on('data', (chunk: string) => this.receive(chunk));
    proc.child.stderr?.setEncoding('utf8');
    proc.child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    proc.child.stdin?.on('error', () => {
      /* the exit handler reports */
    });
    void proc.child.then((result) => {
      // A process ended by release() whose successor already runs: the queue and buffer are the successor's.
      if (this.proc !== proc && this.proc !== undefined) return;
      this.proc = undefined;
      this.finish(result.exitCode, result.cause);
    });
    return proc;
  }

  /**
   * Keep a chunk; drain only when it completes the start of an element or of
   * a sentinel (which may be split across chunks: its "version" can arrive
   * after the rest).
   */
  private receive(chunk: string): void {
    this.parts.push(chunk);
    const probe = this.tail + chunk;
    const seen = this.tail.length;
    this.tail = probe.slice(-TAIL);
    if (endsAfter(ELEMENT, probe, seen) || endsAfter(SENTINEL, probe, seen)) {
      this.take();
      this.drain();
    }
  }

  /** Append the kept chunks to buf. */
  private take(): void {
    if (this.parts.length === 0) return;
    this.buf += this.parts.join('');
    this.parts = [];
  }

  /** Resolve every request whose element is complete. */
  private drain(): void {
    for (;;) {
      const start = find(ELEMENT, this.buf, 0);
      if (!start) return;
      const sentinel = find(SENTINEL, this.buf, start.index);
      if (sentinel && sentinel.index === start.index) {
        // A finished sentinel: drop it once the next element begins.
        const next = find(ELEMENT, this.buf, sentinel.end);
        if (!next) return;
        this.buf = this.buf.slice(next.index);
        this.scanFrom = 0;
        continue;
      }
      const end = find(SENTINEL, this.buf, Math.max(start.end, this.scanFrom));
      if (!end) {
        this.scanFrom = Math.max(start.end, this.buf.length - 64);
        return;
      }
      // Drop the separator before the sentinel (a comma and whitespace), without a regex over a large text.
      let stop = end.index;
      while (stop > start.index && /[\s,]/.test(this.buf[stop - 1]!)) stop--;
      const text = this.buf.slice(start.index, stop);
      this.buf = this.buf.slice(end.index);
      this.scanFrom = 0;
      this.settle(text);
    }
  }

  private settle(text: string): void {
    const pending = this.queue.shift();
    if (!pending) return;
    try {
      const element = parseJson(text) as { output?: unknown };
      const output = element.output as { error?: string } | undefined;
      if (output && typeof output === 'object' && !Array.isArray(output) && typeof output.error === 'string') {
        pending.reject(new ToolError(pending.argv, { exitCode: 255, stderr: output.error }));
      } else {
        pending.resolve(element.output);
      }
    } catch (err) {
      pending.reject(new ToolError(pending.argv, { stderr: `unparsable output: ${text.slice(0, 200)}`, cause: err }));
    }
  }

  /** The process ended: the request it failed on gets its error element, the rest are retried or rejected. */
  private finish(exitCode: number | undefined, cause: unknown): void {
    this.take();
    const tail = this.buf.replace(/\]\s*$/, '');
    const start = find(ELEMENT, tail, 0);
    const sentinel = find(SENTINEL, tail, 0);
    if (start && sentinel?.index !== start.index && this.queue.length > 0) {
      this.settle(tail.slice(start.index));
    }
    this.buf = '';
    this.tail = '';
    this.scanFrom = 0;
    const rest = this.queue.splice(0);
    for (const p of rest) {
      p.reject(new ToolError(p.argv, { exitCode, stderr: this.stderr || 'bpftool batch ended', cause }));
    }
  }
}
