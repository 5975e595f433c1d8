/**
 * In-kernel cost: with kernel.bpf_stats_enabled=1, run `perf bench sched
 * pipe` next to each configuration in turn (the order rotates every round)
 * and divide the growth of run_time_ns by the growth of run_cnt (per event)
 * and by the machine's context switches in the same window (per switch).
 */
import { attach, type ConfigName } from '../lib/attach.js';
import { enableBpfStats, progStats } from '../lib/bpfstats.js';
import { contextSwitches } from '../lib/proc.js';
import { pipeBench, PLACEMENTS, type Placement } from '../lib/perf.js';
import { median } from '../lib/stats.js';

export const KERNEL_CONFIGS = ['empty', 'tuner', 'tuner-compat', 'bpftrace'] as const satisfies readonly ConfigName[];
export type KernelConfig = (typeof KERNEL_CONFIGS)[number];

export interface ProgRun {
  name: string;
  type: string;
  runs: number;
  runTimeNs: number;
}

export interface KernelRun {
  config: KernelConfig;
  placement: Placement;
  round: number;
  switches: number;
  opsPerSec: number;
  progs: ProgRun[];
  totalNs: number;
  nsPerSwitch: number;
}

export interface KernelProgSummary {
  name: string;
  type: string;
  nsPerEvent: number;
  eventsPerSwitch: number;
  nsPerSwitch: number;
}

export interface KernelSummary {
  config: KernelConfig;
  progs: KernelProgSummary[];
  nsPerSwitch: number;
  nsPerSwitchRuns: number[];
}

export interface KernelPlacementResult {
  placement: Placement;
  runs: KernelRun[];
  summary: KernelSummary[];
  /** Medians of the per-round ratios (each ratio taken within one round). */
  tunerOverBpftrace: number;
  tunerOverEmpty: number;
  /** The compat variant (sched_compat.bpf.o, what kernels before 5.11-5.17 load) on this kernel. */
  compatOverEmpty: number;
  compatOverTuner: number;
}

export interface KernelResult {
  loops: number;
  rounds: number;
  placements: KernelPlacementResult[];
}

async function measure(config: KernelConfig, placement: Placement, round: number, loops: number): Promise<KernelRun> {
  const agent = await attach(config);
  try {
    const ids = await agent.progIds();
    if (ids.length === 0) throw new Error(`${config}: no BPF programs found attached`);
    const before = await progStats(ids);
    const ctxt0 = contextSwitches();
    const bench = await pipeBench(loops, placement);
    const switches = contextSwitches() - ctxt0;
    const after = await progStats(ids);
    const progs: ProgRun[] = [];
    for (const [id, a] of after) {
      const b = before.get(id);
      progs.push({ name: a.name, type: a.type, runs: a.runCnt - (b?.runCnt ?? 0), runTimeNs: a.runTimeNs - (b?.runTimeNs ?? 0) });
    }
    const totalNs = progs.reduce((s, p) => s + p.runTimeNs, 0);
    return { config, placement, round, switches, opsPerSec: bench.opsPerSec, progs, totalNs, nsPerSwitch: totalNs / switches };
  } finally {
    await agent.detach();
  }
}

function summarizeConfig(config: KernelConfig, runs: KernelRun[]): KernelSummary {
  const mine = runs.filter((r) => r.config === config);
  const names = [...new Set(mine.flatMap((r) => r.progs.map((p) => p.name)))].sort();
  const progs = names.map((name) => {
    const per = mine.map((r) => ({ r, p: r.progs.filter((p) => p.name === name) }));
    const runsOf = (x: { p: ProgRun[] }): number => x.p.reduce((s, p) => s + p.runs, 0);
    const nsOf = (x: { p: ProgRun[] }): number => x.p.reduce((s, p) => s + p.runTimeNs, 0);
    return {
      name,
      type: per[0]?.p[0]?.type ?? '',
      nsPerEvent: median(per.filter((x) => runsOf(x) > 0).map((x) => nsOf(x) / runsOf(x))),
      eventsPerSwitch: median(per.map((x) => runsOf(x) / x.r.switches)),
      nsPerSwitch: median(per.map((x) => nsOf(x) / x.r.switches)),
    };
  });
  const nsPerSwitchRuns = mine.map((r) => r.nsPerSwitch);
  return { config, progs, nsPerSwitch: median(nsPerSwitchRuns), nsPerSwitchRuns };
}

export async function kernelCost(opts: { rounds: number; loops: number; log: (s: string) => void }): Promise<KernelResult> {
  const restore = enableBpfStats();
  const runs: KernelRun[] = [];
  try {
    for (let round = 0; round < opts.rounds; round++) {
      for (const placement of PLACEMENTS) {
        const order = KERNEL_CONFIGS.map((_, i) => KERNEL_CONFIGS[(i + round) % KERNEL_CONFIGS.length]!);
        for (const config of order) {
          const r = await measure(config, placement, round, opts.loops);
          opts.log(
            `kernel ${round + 1}/${opts.rounds} ${placement} ${config}: ${r.nsPerSwitch.toFixed(1)} ns/switch over ${r.switches} switches`,
          );
          runs.push(r);
        }
      }
    }
  } finally {
    restore();
  }
  return {
    loops: opts.loops,
    rounds: opts.rounds,
    placements: PLACEMENTS.map((placement) => {
      const mine = runs.filter((r) => r.placement === placement);
      const ratio = (a: KernelConfig, b: KernelConfig): number =>
        median(
          Array.from({ length: opts.rounds }, (_, round) => {
            const x = mine.find((r) => r.round === round && r.config === a)!;
            const y = mine.find((r) => r.round === round && r.config === b)!;
            return x.nsPerSwitch / y.nsPerSwitch;
          }),
        );
      return {
        placement,
        runs: mine,
        summary: KERNEL_CONFIGS.map((c) => summarizeConfig(c, mine)),
        tunerOverBpftrace: ratio('tuner', 'bpftrace'),
        tunerOverEmpty: ratio('tuner', 'empty'),
        compatOverEmpty: ratio('tuner-compat', 'empty'),
        compatOverTuner: ratio('tuner-compat', 'tuner'),
      };
    }),
  };
}
