/**
 * Start-up: time from launch to the first record of
 * `tuner watch sched --json --count 1 --interval 1s` (and the part that is not
 * the interval, using the record's own interval_ms), node's bare start
 * (`tuner --version`), and bpftrace's time to attach probes/runqlat.bt.
 * One more tuner launch is sampled every 5 ms for the peak memory of the
 * start-up, when the short-lived `bpftool prog loadall` runs.
 *
 * When the environment sets NODE_EXTRA_CA_CERTS, node 20 reads that CA
 * bundle at every start, before any JavaScript runs (tuner makes no TLS
 * connection, and can not skip it from inside): the tuner launches are then
 * measured both ways, alternating, with and without the variable.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pinDir } from '../lib/attach.js';
import { CLI, RUNQLAT_BT } from '../lib/paths.js';
import { sampleTree } from '../lib/proc.js';
import { lines, start, stderrOf, stop } from '../lib/spawn.js';
import { summarize, type Summary } from '../lib/stats.js';

export interface StartupResult {
  runs: number;
  /** Launch to the first record, ms. */
  firstRecordMs: Summary;
  /** The record's interval_ms. */
  intervalMs: Summary;
  /** firstRecord - interval: loading, attaching, and the first read and print. */
  overheadMs: Summary;
  /** `node dist/cli.js --version`: node and the CLI module graph alone. */
  nodeBareMs: Summary;
  /** Set when the environment has NODE_EXTRA_CA_CERTS: the same figures with it left out. */
  withoutExtraCa?: { firstRecordMs: Summary; intervalMs: Summary; overheadMs: Summary; nodeBareMs: Summary };
  /** Peak of the tree's summed VmHWM during start-up, MB, and the largest VmHWM seen per command. */
  startupPeakRssMb: number;
  startupPeakByComm: Record<string, number>;
  bpftrace: {
    /** Launch to bpftrace's "attached_probes" message (printed as it starts attaching). */
    attachingMs: Summary;
    /** Launch to the first histogram, less the 1 s interval: when its interval probe was attached. */
    attachedMs: Summary;
    /** Launch to the first histogram. */
    firstOutputMs: Summary;
  };
}

const ms = (a: bigint, b: bigint): number => Number(b - a) / 1e6;

/** The environment of a launch: as it is, or without NODE_EXTRA_CA_CERTS. */
const caEnv = (withoutCa: boolean): Record<string, string | undefined> => (withoutCa ? { NODE_EXTRA_CA_CERTS: undefined } : {});

async function tunerFirstRecord(withoutCa = false): Promise<{ totalMs: number; intervalMs: number }> {
  const dir = pinDir('startup');
  const t0 = process.hrtime.bigint();
  const child = start('node', [CLI, 'watch', 'sched', '--json', '--count', '1', '--interval', '1s'], {
    TUNER_PIN_ROOT: dir,
    ...caEnv(withoutCa),
  });
  const err = stderrOf(child);
  let line = '';
  let at = 0n;
  await lines(child, (l, atNs) => {
    line = l;
    at = atNs;
    return true;
  });
  await child;
  if (!line) throw new Error(`tuner watch sched --count 1 printed no record: ${err().trim().slice(0, 800)}`);
  const rec = JSON.parse(line) as { interval_ms: number };
  return { totalMs: ms(t0, at), intervalMs: rec.interval_ms };
}

async function nodeBare(withoutCa = false): Promise<number> {
  const t0 = process.hrtime.bigint();
  const child = start('node', [CLI, '--version'], caEnv(withoutCa));
  await lines(child, () => true);
  const t1 = process.hrtime.bigint();
  await child;
  return ms(t0, t1);
}

async function startupMemory(): Promise<{ peakMb: number; byComm: Record<string, number> }> {
  const dir = pinDir('startup-mem');
  const child = start('node', [CLI, 'watch', 'sched', '--json', '--count', '1', '--interval', '1s'], { TUNER_PIN_ROOT: dir });
  let done = false;
  const first = lines(child, () => (done = true));
  let peak = 0;
  const byComm: Record<string, number> = {};
  while (!done && child.exitCode === null) {
    const s = sampleTree(child.pid!);
    peak = Math.max(peak, s.hwmKb);
    for (const p of s.procs) byComm[p.comm] = Math.max(byComm[p.comm] ?? 0, p.hwmKb / 1024);
    await sleep(5);
  }
  await first;
  await child;
  return { peakMb: peak / 1024, byComm };
}

async function bpftraceAttach(): Promise<{ attachingMs: number; firstOutputMs: number }> {
  const t0 = process.hrtime.bigint();
  const child = start('bpftrace', ['-f', 'json', RUNQLAT_BT]);
  const err = stderrOf(child);
  let attaching: bigint | undefined;
  let first: bigint | undefined;
  await lines(child, (l, at) => {
    if (/"type":\s*"attached_probes"/.test(l)) attaching = at;
    if (/"type":\s*"(hist|map)"/.test(l)) {
      first = at;
      return true;
    }
    return false;
  });
  await stop(child, 'SIGINT');
  if (attaching === undefined || first === undefined) throw new Error(`bpftrace printed no histogram: ${err().trim().slice(0, 800)}`);
  return { attachingMs: ms(t0, attaching), firstOutputMs: ms(t0, first) };
}

export async function startup(opts: { runs: number; log: (s: string) => void }): Promise<StartupResult> {
  const tuner: Array<{ totalMs: number; intervalMs: number }> = [];
  const bare: number[] = [];
  const bt: Array<{ attachingMs: number; firstOutputMs: number }> = [];
  const extraCa = process.env.NODE_EXTRA_CA_CERTS !== undefined;
  const tunerNoCa: Array<{ totalMs: number; intervalMs: number }> = [];
  const bareNoCa: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    bare.push(await nodeBare());
    const r = await tunerFirstRecord();
    tuner.push(r);
    opts.log(`startup ${i + 1}/${opts.runs}: tuner first record ${r.totalMs.toFixed(0)} ms (interval ${r.intervalMs.toFixed(0)} ms)`);
    if (extraCa) {
      bareNoCa.push(await nodeBare(true));
      const n = await tunerFirstRecord(true);
      tunerNoCa.push(n);
      opts.log(
        `startup ${i + 1}/${opts.runs}: without NODE_EXTRA_CA_CERTS ${n.totalMs.toFixed(0)} ms (interval ${n.intervalMs.toFixed(0)} ms)`,
      );
    }
    const b = await bpftraceAttach();
    bt.push(b);
    opts.log(`startup ${i + 1}/${opts.runs}: bpftrace first histogram ${b.firstOutputMs.toFixed(0)} ms`);
  }
  const mem = await startupMemory();
  return {
    runs: opts.runs,
    firstRecordMs: summarize(tuner.map((r) => r.totalMs)),
    intervalMs: summarize(tuner.map((r) => r.intervalMs)),
    overheadMs: summarize(tuner.map((r) => r.totalMs - r.intervalMs)),
    nodeBareMs: summarize(bare),
    withoutExtraCa: extraCa
      ? {
          firstRecordMs: summarize(tunerNoCa.map((r) => r.totalMs)),
          intervalMs: summarize(tunerNoCa.map((r) => r.intervalMs)),
          overheadMs: summarize(tunerNoCa.map((r) => r.totalMs - r.intervalMs)),
          nodeBareMs: summarize(bareNoCa),
        }
      : undefined,
    startupPeakRssMb: mem.peakMb,
    startupPeakByComm: mem.byComm,
    bpftrace: {
      attachingMs: summarize(bt.map((b) => b.attachingMs)),
      attachedMs: summarize(bt.map((b) => b.firstOutputMs - 1000)),
      firstOutputMs: summarize(bt.map((b) => b.firstOutputMs)),
    },
  };
}
