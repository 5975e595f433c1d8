/**
 * record's progress line on a terminal: which run of how many is going and
 * an estimate of the time left (the mean duration of the runs so far, times
 * the runs to go). Rewritten in place on stderr when stderr is a TTY; when
 * it is not (a CI log, a pipe) nothing is written.
 */

export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): boolean;
}

export interface RunEvent {
  warmup: boolean;
  index: number;
  of: number;
  /** With `--alternate`: the side (BASE or NEW, and its file) and the pair of runs. */
  side?: { name: string; file: string; pair: number; pairs: number };
}

/** "run 3/10", "warm-up 1/2"; alternating: "run 3/10, pair 2/5, NEW new.json". */
export function runWhat(e: RunEvent): string {
  const what = e.warmup ? `warm-up ${e.index}/${e.of}` : `run ${e.index}/${e.of}`;
  if (!e.side) return what;
  return `${what}, ${e.warmup ? 'warm-up pair' : 'pair'} ${e.side.pair}/${e.side.pairs}, ${e.side.name} ${e.side.file}`;
}

const CLEAR = '\r\x1b[K';

/** "about 1 min 5 s", "about 12 s", "under a second". */
export function fmtLeft(ms: number): string {
  if (ms < 1000) return 'under a second';
  const s = Math.round(ms / 1000);
  if (s < 60) return `about ${s} s`;
  const m = Math.floor(s / 60);
  return `about ${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
}

export class RecordProgress {
  private readonly tty: boolean;
  private shown = false;
  private started = 0;
  private readonly durations: number[] = [];

  constructor(
    private readonly stream: ProgressStream,
    private readonly total: { warmup: number; repeat: number },
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tty = stream.isTTY === true;
  }

  /** The line for a run that starts now (exported for tests through `line`). */
  line(e: RunEvent): string {
    const what = runWhat(e);
    const done = this.durations.length;
    const toGo = this.total.warmup + this.total.repeat - done;
    if (done === 0) return `tuner record: ${what}, time left unknown until a run ends`;
    const mean = this.durations.reduce((s, d) => s + d, 0) / done;
    return `tuner record: ${what}, ${fmtLeft(mean * toGo)} left`;
  }

  start(e: RunEvent): void {
    this.started = this.now();
    if (!this.tty) return;
    this.stream.write(CLEAR + this.line(e));
    this.shown = true;
  }

  done(): void {
    this.durations.push(this.now() - this.started);
  }

  /** Take the line off the terminal (before other output, and at the end). */
  clear(): void {
    if (!this.tty || !this.shown) return;
    this.stream.write(CLEAR);
    this.shown = false;
  }
}
