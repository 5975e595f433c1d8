/**
 * Every metric family the agent exports, in base units with Prometheus
 * suffixes, fed from the records (and, for the histograms, the per-interval
 * deltas) of the signals the agent keeps open. Host-wide families have no
 * cgroup label; per-cgroup families cover only the bounded set of
 * CgroupSeriesSet. No family has a PID label.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { histSum } from '../aggregate/histogram.js';
import type { RunEvent } from '../engine/events.js';
import type { FutexDelta, FutexRecord } from '../signals/futex/record.js';
import type { IoRecord } from '../signals/io/record.js';
import type { NetRecord } from '../signals/net/record.js';
import type { PsiRecord } from '../signals/psi/record.js';
import { procHists, type SchedDelta, type SchedRecord } from '../signals/sched/record.js';
import { CgroupSeriesSet } from './cgroup-set.js';
import { Log2Histogram } from './log2-histogram.js';
import { agentCost } from './self.js';

const NS = 1e-9;

export interface MetricsOptions {
  cgroups: { paths: readonly string[]; top: number; idleAfterMs: number };
  /** Whether a cgroup (name relative to the cpu hierarchy root) still exists. */
  cgroupExists: (cgroup: string) => boolean;
  /** PIDs of the helper processes the agent runs (bpftool), for its own cost. */
  helperPids: () => number[];
  version: string;
}

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly cgroupSet: CgroupSeriesSet;

  private readonly runqWait: Log2Histogram;
  private readonly runDelay: Counter;
  private readonly oncpu: Counter;
  private readonly switches: Counter;
  private readonly runqLength: Gauge;
  private readonly futexWait: Log2Histogram;
  private readonly futexTimeouts: Counter;
  private readonly futexWakes: Counter;
  private readonly ioRequests: Counter;
  private readonly ioBytes: Counter;
  private readonly netRetransmits: Counter;
  private readonly netDrops: Counter;
  private readonly pressure: Counter;
  private readonly cgRunDelay: Counter;
  private readonly cgOncpu: Counter;
  private readonly cgSwitches: Counter;
  private readonly cgDropped: Counter;
  private readonly cgSeries: Gauge;
  private readonly actions: Record<'applied' | 'reverted' | 'yielded' | 'audited' | 'refused', Counter>;
  private readonly knobValue: Gauge;
  private readonly recipes: Gauge;
  readonly reloads: Counter;
  private readonly intervals: Counter;
  private readonly readSeconds: Gauge;
  private readonly cpu: Counter;
  private readonly rss: Gauge;
  private lastCpu = 0;

  constructor(private readonly o: MetricsOptions) {
    const r = [this.registry];
    const counter = (name: string, help: string, labelNames: string[] = []): Counter =>
      new Counter({ name, help, labelNames, registers: r });
    const gauge = (name: string, help: string, labelNames: string[] = []): Gauge => new Gauge({ name, help, labelNames, registers: r });
    this.cgroupSet = new CgroupSeriesSet({ ...o.cgroups, exists: o.cgroupExists });

    this.runqWait = new Log2Histogram(
      'tuner_runqueue_wait_seconds',
      'Run-queue waits (wakeup or preemption to running), measured by the scheduler probe.',
      [],
      this.registry,
    );
    this.runDelay = counter(
      'tuner_run_delay_seconds_total',
      "Run-queue wait of every task, by the kernel's own accounting (sched_info.run_delay).",
    );
    this.oncpu = counter('tuner_oncpu_seconds_total', 'Time tasks spent running on a CPU.');
    this.switches = counter('tuner_context_switches_total', 'Context switches, by kind.', ['kind']);
    this.runqLength = gauge('tuner_runqueue_length', 'Mean number of tasks waiting on the CPU run queue over the last interval.', ['cpu']);
    this.futexWait = new Log2Histogram('tuner_futex_wait_seconds', 'Time blocked in futex waits.', [], this.registry);
    this.futexTimeouts = counter('tuner_futex_timeouts_total', 'Futex waits that ended with a timeout.');
    this.futexWakes = counter('tuner_futex_wakes_total', 'Futex wake calls.');
    this.ioRequests = counter('tuner_io_requests_total', 'Block I/O requests completed, by device and operation.', ['device', 'op']);
    this.ioBytes = counter('tuner_io_bytes_total', 'Block I/O bytes completed, by device and operation.', ['device', 'op']);
    this.netRetransmits = counter('tuner_net_retransmits_total', 'TCP segments retransmitted.');
    this.netDrops = counter('tuner_net_drops_total', 'Packets dropped, by the kernel drop reason.', ['reason']);
    this.pressure = counter('tuner_pressure_stalled_seconds_total', 'Pressure stall time (PSI), by resource and kind (some, full).', [
      'resource',
      'kind',
    ]);
    this.cgRunDelay = counter('tuner_cgroup_run_delay_seconds_total', 'Run-queue wait of the tasks of a cgroup (bounded set of cgroups).', [
      'cgroup',
    ]);
    this.cgOncpu = counter('tuner_cgroup_oncpu_seconds_total', 'On-CPU time of the tasks of a cgroup (bounded set of cgroups).', [
      'cgroup',
    ]);
    this.cgSwitches = counter(
      'tuner_cgroup_context_switches_total',
      'Context switches of the tasks of a cgroup (bounded set of cgroups).',
      ['cgroup'],
    );
    this.cgDropped = counter(
      'tuner_cgroup_series_dropped_total',
      'Active cgroups left without series by the cardinality limit, summed over intervals.',
    );
    this.cgSeries = gauge('tuner_cgroup_series', 'Cgroups that have series of their own now.');
    this.actions = {
      applied: counter('tuner_actions_applied_total', 'Changes tuner made to a knob.', ['recipe', 'action']),
      reverted: counter('tuner_actions_reverted_total', 'Knobs tuner put back to their original value.', ['recipe', 'action']),
      yielded: counter('tuner_actions_yielded_total', 'Knobs tuner let go because someone else changed them.', ['recipe', 'action']),
      audited: counter('tuner_actions_audited_total', 'Changes an audit-mode recipe would have made.', ['recipe', 'action']),
      refused: counter('tuner_actions_refused_total', 'Changes a guard refused (scope, bounds, claims).', ['recipe', 'action']),
    };
    this.knobValue = gauge('tuner_knob_value', 'Value of a knob tuner holds changed now (numeric knobs).', ['recipe', 'knob']);
    this.recipes = gauge('tuner_agent_recipes', 'Recipes running, by mode.', ['mode']);
    this.reloads = counter('tuner_agent_reloads_total', 'Reloads (SIGHUP), by result.', ['result']);
    this.intervals = counter('tuner_agent_intervals_total', 'Intervals the agent completed.');
    this.readSeconds = gauge('tuner_agent_interval_work_seconds', 'Time the last interval took to read every signal and run every recipe.');
    gauge('tuner_agent_info', 'Constant 1, labelled with the version.', ['version']).set({ version: o.version }, 1);
    this.cpu = counter('tuner_agent_cpu_seconds_total', 'CPU time of the agent (its process, its helpers, and helpers that exited).');
    this.rss = gauge('tuner_agent_resident_memory_bytes', 'Resident memory of the agent process and its running helpers.');
  }

  refreshCost(): void {
    const c = agentCost(this.o.helperPids());
    if (c.cpuSeconds > this.lastCpu) {
      this.cpu.inc(c.cpuSeconds - this.lastCpu);
      this.lastCpu = c.cpuSeconds;
    }
    this.rss.set(c.rssBytes);
  }

  sched(rec: SchedRecord, delta: SchedDelta | undefined, nowMs: number): void {
    if (delta) {
      const h = procHists(delta);
      const hist = histSum([h.wakeup, h.preempt]);
      this.runqWait.add({}, hist, delta.procs.reduce((s, p) => s + p.waitNs, 0) * NS);
    }
    this.runDelay.inc(rec.runq.wait_ns * NS);
    this.switches.inc({ kind: 'voluntary' }, rec.voluntary);
    this.switches.inc({ kind: 'involuntary' }, rec.involuntary);
    this.oncpu.inc(rec.cgroups.reduce((s, c) => s + c.oncpu_ns, 0) * NS);
    for (const c of rec.cpus) this.runqLength.set({ cpu: String(c.cpu) }, c.runq_len_avg);
    const change = this.cgroupSet.update(
      rec.cgroups.filter((c) => c.cgroup !== '').map((c) => ({ cgroup: c.cgroup, waitNs: c.runq_wait_ns })),
      nowMs,
    );
    for (const cg of change.removed) {
      this.cgRunDelay.remove({ cgroup: cg });
      this.cgOncpu.remove({ cgroup: cg });
      this.cgSwitches.remove({ cgroup: cg });
    }
    this.cgDropped.inc(change.dropped);
    for (const c of rec.cgroups) {
      if (!this.cgroupSet.has(c.cgroup)) continue;
      this.cgRunDelay.inc({ cgroup: c.cgroup }, c.runq_wait_ns * NS);
      this.cgOncpu.inc({ cgroup: c.cgroup }, c.oncpu_ns * NS);
      this.cgSwitches.inc({ cgroup: c.cgroup }, c.switches);
    }
    this.cgSeries.set(this.cgroupSet.size);
  }

  futex(rec: FutexRecord, delta: FutexDelta | undefined): void {
    if (delta) this.futexWait.add({}, histSum(delta.procs.map((p) => p.hist)), rec.wait_ns * NS);
    this.futexTimeouts.inc(rec.timeouts);
    this.futexWakes.inc(rec.wakes);
  }

  io(rec: IoRecord): void {
    for (const d of rec.devices) {
      this.ioRequests.inc({ device: d.dev, op: 'read' }, d.reads);
      this.ioRequests.inc({ device: d.dev, op: 'write' }, d.writes);
      this.ioBytes.inc({ device: d.dev, op: 'read' }, d.read_bytes);
      this.ioBytes.inc({ device: d.dev, op: 'write' }, d.write_bytes);
    }
  }

  net(rec: NetRecord): void {
    this.netRetransmits.inc(rec.retransmits);
    for (const d of rec.drop_reasons) this.netDrops.inc({ reason: d.reason }, d.count);
  }

  psi(rec: PsiRecord): void {
    for (const res of ['cpu', 'memory', 'io'] as const) {
      const r = rec[res];
      if (!r) continue;
      this.pressure.inc({ resource: res, kind: 'some' }, r.some_total_us * 1e-6);
      if (r.full_total_us !== undefined) this.pressure.inc({ resource: res, kind: 'full' }, r.full_total_us * 1e-6);
    }
  }

  /** Count an engine's event; track the knobs held now. */
  event(ev: RunEvent): void {
    if (ev.type === 'decision') {
      const l = { recipe: ev.recipe, action: ev.action };
      if (ev.kind === 'revert' || ev.reverted) {
        if (ev.applied) this.actions.reverted.inc(l);
        this.knobValue.remove({ recipe: ev.recipe, knob: ev.knob });
      } else if (ev.applied) {
        this.actions.applied.inc(l);
        const v = Number(ev.new);
        if (Number.isFinite(v)) this.knobValue.set({ recipe: ev.recipe, knob: ev.knob }, v);
      } else this.actions.audited.inc(l);
    } else if (ev.type === 'yield') {
      this.actions.yielded.inc({ recipe: ev.recipe, action: ev.action });
      this.knobValue.remove({ recipe: ev.recipe, knob: ev.knob });
    } else if (ev.type === 'refused') this.actions.refused.inc({ recipe: ev.recipe, action: ev.action });
  }

  recipesRunning(apply: number, audit: number): void {
    this.recipes.set({ mode: 'apply' }, apply);
    this.recipes.set({ mode: 'audit' }, audit);
  }

  interval(workSeconds: number): void {
    this.intervals.inc();
    this.readSeconds.set(workSeconds);
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    this.refreshCost(); // the agent's own cost is read when scraped: no work between scrapes
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
