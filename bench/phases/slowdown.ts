/**
 * Workload slowdown: `perf bench sched pipe` throughput with nothing
 * attached, with the empty floor program, with `tuner watch sched` and with
 * the bpftrace yardstick. A round runs each attached config once, in
 * rotating order, and a run with nothing attached before, between and after
 * them (none, a, none, b, none, c, none); each config's run is compared with
 * the mean of the two runs around it, seconds apart, so a drift of the
 * machine's speed within the round cancels to first order and a jump
 * touches the one config it falls next to. The result is the median over
 * rounds.
 */
import { attach, type ConfigName } from '../lib/attach.js';
import { bpfStatsEnabled } from '../lib/bpfstats.js';
import { pipeBench, PLACEMENTS, type Placement } from '../lib/perf.js';
import { summarize, type Summary } from '../lib/stats.js';

export const SLOWDOWN_CONFIGS = ['none', 'empty', 'tuner', 'bpftrace'] as const satisfies readonly ConfigName[];
type SlowConfig = (typeof SLOWDOWN_CONFIGS)[number];
type Attached = Exclude<SlowConfig, 'none'>;
const ATTACHED: readonly Attached[] = ['empty', 'tuner', 'bpftrace'];

export interface SlowRun {
  config: SlowConfig;
  placement: Placement;
  round: number;
  /** Position in the round's sequence (none, a, none, b, none, c, none). */
  seq: number;
  opsPerSec: number;
  switches: number;
}

/** The round's sequence: `attached` in rotating order, each between two runs with nothing attached. */
export function roundSequence(round: number): SlowConfig[] {
  const seq: SlowConfig[] = ['none'];
  for (let i = 0; i < ATTACHED.length; i++) seq.push(ATTACHED[(i + round) % ATTACHED.length]!, 'none');
  return seq;
}

/**
 * Per attached config, 1 - its throughput / the mean throughput of the runs
 * with nothing attached just before and just after it (one round's runs, in
 * sequence order).
 */
export function bracketedSlowdowns(runs: ReadonlyArray<Pick<SlowRun, 'config' | 'opsPerSec'>>): Partial<Record<Attached, number>> {
  const out: Partial<Record<Attached, number>> = {};
  runs.forEach((r, i) => {
    const before = runs[i - 1];
    const after = runs[i + 1];
    if (r.config === 'none' || before?.config !== 'none' || after?.config !== 'none') return;
    out[r.config] = 1 - r.opsPerSec / ((before.opsPerSec + after.opsPerSec) / 2);
  });
  return out;
}

export interface SlowPlacementResult {
  placement: Placement;
  runs: SlowRun[];
  opsPerSec: Record<SlowConfig, Summary>;
  /** Per config: 1 - throughput / throughput with nothing attached just before and after, median of the per-round values, and their range. */
  slowdown: Record<Attached, Summary>;
}

export interface SlowdownResult {
  loops: number;
  rounds: number;
  /** bpf_stats was already on (set by someone else): the figures then include its cost. */
  bpfStatsWasOn: boolean;
  placements: SlowPlacementResult[];
}

export async function slowdown(opts: { rounds: number; loops: number; log: (s: string) => void }): Promise<SlowdownResult> {
  const runs: SlowRun[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    for (const placement of PLACEMENTS) {
      for (const [seq, config] of roundSequence(round).entries()) {
        const agent = await attach(config);
        try {
          const r = await pipeBench(opts.loops, placement);
          runs.push({ config, placement, round, seq, opsPerSec: r.opsPerSec, switches: r.switches });
          opts.log(`slowdown ${round + 1}/${opts.rounds} ${placement} ${config}: ${Math.round(r.opsPerSec)} ops/s`);
        } finally {
          await agent.detach();
        }
      }
    }
  }
  return {
    loops: opts.loops,
    rounds: opts.rounds,
    bpfStatsWasOn: bpfStatsEnabled(),
    placements: PLACEMENTS.map((placement) => {
      const mine = runs.filter((r) => r.placement === placement);
      const ops = (c: SlowConfig): number[] => mine.filter((r) => r.config === c).map((r) => r.opsPerSec);
      const rounds = Array.from({ length: opts.rounds }, (_, round) =>
        bracketedSlowdowns(mine.filter((r) => r.round === round).sort((a, b) => a.seq - b.seq)),
      );
      const perRound = (c: Attached): number[] => rounds.map((x) => x[c]).filter((v): v is number => v !== undefined);
      return {
        placement,
        runs: mine,
        opsPerSec: Object.fromEntries(SLOWDOWN_CONFIGS.map((c) => [c, summarize(ops(c))])) as Record<SlowConfig, Summary>,
        slowdown: Object.fromEntries(ATTACHED.map((c) => [c, summarize(perRound(c))])) as Record<Attached, Summary>,
      };
    }),
  };
}
