/**
 * Workload slowdown: `perf bench sched pipe` throughput with nothing
 * attached, with the empty floor program, with `tuner watch sched` and with
 * the bpftrace yardstick, one run of each per round in rotating order. A
 * round's ratios compare runs seconds apart (the machine's speed drifts over
 * minutes); the result is the median over rounds.
 */
import { attach, type ConfigName } from '../lib/attach.js';
import { bpfStatsEnabled } from '../lib/bpfstats.js';
import { pipeBench, PLACEMENTS, type Placement } from '../lib/perf.js';
import { summarize, type Summary } from '../lib/stats.js';

export const SLOWDOWN_CONFIGS = ['none', 'empty', 'tuner', 'bpftrace'] as const satisfies readonly ConfigName[];
type SlowConfig = (typeof SLOWDOWN_CONFIGS)[number];

export interface SlowRun {
  config: SlowConfig;
  placement: Placement;
  round: number;
  opsPerSec: number;
  switches: number;
}

export interface SlowPlacementResult {
  placement: Placement;
  runs: SlowRun[];
  opsPerSec: Record<SlowConfig, Summary>;
  /** Per config: 1 - throughput / throughput with nothing attached, median of the per-round values, and their range. */
  slowdown: Record<Exclude<SlowConfig, 'none'>, Summary>;
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
      const order = SLOWDOWN_CONFIGS.map((_, i) => SLOWDOWN_CONFIGS[(i + round) % SLOWDOWN_CONFIGS.length]!);
      for (const config of order) {
        const agent = await attach(config);
        try {
          const r = await pipeBench(opts.loops, placement);
          runs.push({ config, placement, round, opsPerSec: r.opsPerSec, switches: r.switches });
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
      const perRound = (c: SlowConfig): number[] =>
        Array.from({ length: opts.rounds }, (_, round) => {
          const x = mine.find((r) => r.round === round && r.config === c)!;
          const base = mine.find((r) => r.round === round && r.config === 'none')!;
          return 1 - x.opsPerSec / base.opsPerSec;
        });
      return {
        placement,
        runs: mine,
        opsPerSec: Object.fromEntries(SLOWDOWN_CONFIGS.map((c) => [c, summarize(ops(c))])) as Record<SlowConfig, Summary>,
        slowdown: { empty: summarize(perRound('empty')), tuner: summarize(perRound('tuner')), bpftrace: summarize(perRound('bpftrace')) },
      };
    }),
  };
}
