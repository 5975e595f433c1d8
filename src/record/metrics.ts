/**
 * The metrics `record` writes and `compare` gates, by name. Names are
 * `<signal>.<what>_<unit>` (wall and CPU time have no signal prefix); every
 * metric is "lower is better". A metric tuner does not know (a signal added
 * later, summarised generically) gets its unit from its name's suffix.
 */
export type MetricUnit = 'ns' | 'us' | 'count' | 'bytes';

export interface MetricInfo {
  label: string;
  unit: MetricUnit;
  /**
   * Changes of the medians smaller than this (in `unit`) are never flagged,
   * whatever their ratio: 0 -> 3 context switches is not a regression.
   */
  floor: number;
}

const NS_TOTAL_FLOOR = 100_000; // 0.1 ms of accumulated time
const US_LATENCY_FLOOR = 2; // latencies come from log2 histograms; below a few µs their slots are this coarse
const COUNT_FLOOR = 5;

export const METRICS: Readonly<Record<string, MetricInfo>> = {
  wall_ns: { label: 'wall time', unit: 'ns', floor: NS_TOTAL_FLOOR },
  cpu_ns: { label: 'CPU time (on-CPU, all threads)', unit: 'ns', floor: NS_TOTAL_FLOOR },
  'sched.runq_wait_ns': { label: 'run-queue wait (total)', unit: 'ns', floor: NS_TOTAL_FLOOR },
  'sched.runq_p50_us': { label: 'run-queue latency p50', unit: 'us', floor: US_LATENCY_FLOOR },
  'sched.runq_p99_us': { label: 'run-queue latency p99', unit: 'us', floor: US_LATENCY_FLOOR },
  'sched.switches': { label: 'context switches', unit: 'count', floor: COUNT_FLOOR },
  'futex.wait_ns': { label: 'futex wait (total)', unit: 'ns', floor: NS_TOTAL_FLOOR },
  'futex.waits': { label: 'futex waits', unit: 'count', floor: COUNT_FLOOR },
  'futex.wait_p99_us': { label: 'futex wait p99', unit: 'us', floor: US_LATENCY_FLOOR },
  'io.wait_ns': { label: 'I/O wait (total)', unit: 'ns', floor: NS_TOTAL_FLOOR },
  'io.ios': { label: 'I/Os', unit: 'count', floor: COUNT_FLOOR },
  'io.lat_p99_us': { label: 'I/O latency p99', unit: 'us', floor: US_LATENCY_FLOOR },
  'psi.cpu_some_us': { label: 'CPU pressure, some (system)', unit: 'us', floor: 1000 },
  'psi.memory_some_us': { label: 'memory pressure, some (system)', unit: 'us', floor: 1000 },
  'psi.io_some_us': { label: 'I/O pressure, some (system)', unit: 'us', floor: 1000 },
};

/** What is known about a metric: its entry in METRICS, or a unit read from its name. */
export function metricInfo(name: string): MetricInfo {
  const known = METRICS[name];
  if (known) return known;
  const label = name.replace(/_(ns|us|bytes)$/, '').replace(/[._]/g, ' ');
  if (name.endsWith('_ns')) return { label, unit: 'ns', floor: NS_TOTAL_FLOOR };
  if (name.endsWith('_us')) return { label, unit: 'us', floor: US_LATENCY_FLOOR };
  if (name.endsWith('_bytes')) return { label, unit: 'bytes', floor: 4096 };
  return { label, unit: 'count', floor: COUNT_FLOOR };
}
