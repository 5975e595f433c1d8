/** The benchmark's tables, from its results: printed, and written as bench/results.md. */
import type { Summary } from './stats.js';
import { evaluate, type Results } from './targets.js';
import { toMarkdown, toText, type Table } from './table.js';
import type { SchedReadSteps } from './tuner-api.js';

const f = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
const range = (s: Summary, d = 1, scale = 1): string => `${f(s.min * scale, d)}..${f(s.max * scale, d)}`;

const LABEL: Record<string, string> = {
  none: 'nothing attached',
  empty: 'empty tp_btf (floor)',
  tuner: 'tuner watch sched',
  'tuner-compat': 'tuner watch sched, compat variant',
  bpftrace: 'bpftrace runqlat.bt',
};

export function tables(r: Results): Table[] {
  const out: Table[] = [];
  for (const k of r.kernel?.placements ?? []) {
    const rows: string[][] = [];
    for (const s of k.summary) {
      for (const p of s.progs) {
        rows.push([LABEL[s.config]!, `${p.name} (${p.type})`, f(p.nsPerEvent), f(p.eventsPerSwitch, 3), f(p.nsPerSwitch)]);
      }
      rows.push([LABEL[s.config]!, 'total', '', '', f(s.nsPerSwitch)]);
    }
    const sw = k.runs.map((x) => x.switches);
    out.push({
      title: `In-kernel cost, ${k.placement}: perf bench sched pipe -l ${r.kernel!.loops} (bpf_stats; medians of ${r.kernel!.rounds} alternating runs per config)`,
      head: ['config', 'program', 'ns/event', 'events/switch', 'ns/switch'],
      rows,
      notes: [
        `tuner / bpftrace = ${f(k.tunerOverBpftrace, 2)}x, tuner / empty = ${f(k.tunerOverEmpty, 2)}x, compat variant / empty = ${f(k.compatOverEmpty, 2)}x, compat / default = ${f(k.compatOverTuner, 2)}x (medians of per-round ratios)`,
        `context switches per run (/proc/stat ctxt): ${Math.min(...sw)}..${Math.max(...sw)}`,
      ],
    });
  }
  for (const s of r.slowdown?.placements ?? []) {
    const rows = (['none', 'empty', 'tuner', 'bpftrace'] as const).map((c) => {
      const ops = s.opsPerSec[c];
      const sd = c === 'none' ? undefined : s.slowdown[c];
      return [LABEL[c]!, f(ops.median, 0), range(ops, 0), sd ? `${f(100 * sd.median, 2)}%` : '', sd ? `${range(sd, 2, 100)}%` : ''];
    });
    out.push({
      title: `Workload slowdown, ${s.placement}: perf bench sched pipe -l ${r.slowdown!.loops} (${r.slowdown!.rounds} rounds: nothing attached before, between and after the configs)`,
      head: ['config', 'ops/s median', 'ops/s range', 'slowdown median', 'slowdown range'],
      rows,
      notes: [
        'slowdown = 1 - ops/s / the mean ops/s of the runs with nothing attached just before and just after it; median over rounds',
        ...(r.slowdown!.bpfStatsWasOn ? ['kernel.bpf_stats_enabled was already 1: these figures include its cost'] : []),
      ],
    });
  }
  if (r.agent) {
    const a = r.agent;
    const label = { idle: '--json, idle', load: '--json, under perf bench sched pipe', view: 'table view, idle' } as const;
    const rows = (['idle', 'load', 'view'] as const).map((w) => {
      const x = a[w];
      const per = x.perProcess.map((p) => `${p.comm} ${f(p.hwmMb)} MB / ${f(p.cpuSeconds, 2)} s`).join(', ');
      return [label[w], f(x.seconds, 0), f(x.cpuSeconds, 2), `${f(x.cpuPercent, 2)}%`, f(x.peakRssMb), per];
    });
    out.push({
      title: 'Agent cost in user space: tuner watch sched --interval 1s, whole process tree',
      head: ['window', 'seconds', 'CPU s', 'CPU % of one CPU', 'peak RSS MB', 'per process: VmHWM / CPU s'],
      rows,
      notes: [
        'CPU = utime+stime (+ cutime+cstime of exited helpers) of node and every descendant; peak RSS = largest sum of VmHWM over 1 s samples',
      ],
    });
    if (a.daemon) {
      out.push({
        title: 'tuner agent (no recipes, metrics scraped every second, 1 s interval), whole process tree',
        head: ['signals', 'node', 'CPU % median', 'CPU % range', 'peak RSS MB', 'RSS MB it reports'],
        rows: a.daemon.windows.map((w) => [
          `${w.signals.join(',')}${w.bpftoolReads ? ' (io, net via bpftool JSON)' : ''}`,
          w.load ? 'perf bench sched pipe' : 'idle',
          `${f(w.cpuPercent.median, 2)}%`,
          `${f(w.cpuPercent.min, 2)}-${f(w.cpuPercent.max, 2)}%`,
          f(w.peakRssMb),
          f(w.selfRssMb),
        ]),
        notes: ['each window in three equal parts: median and range of the parts; peak RSS as above'],
      });
    }
  }
  if (r.startup) {
    const s = r.startup;
    const row = (what: string, x: Summary): string[] => [what, f(x.median, 0), f(x.min, 0), f(x.max, 0)];
    out.push({
      title: `Start-up (${s.runs} runs)`,
      head: ['what', 'median ms', 'min ms', 'max ms'],
      rows: [
        row('tuner: launch to first record (--interval 1s)', s.firstRecordMs),
        row('  of which the interval (record interval_ms)', s.intervalMs),
        row('  the rest: start, load, attach, read, print', s.overheadMs),
        row('  node + CLI alone (tuner --version)', s.nodeBareMs),
        ...(s.withoutExtraCa
          ? [
              row('tuner, without NODE_EXTRA_CA_CERTS: launch to first record', s.withoutExtraCa.firstRecordMs),
              row('  the rest: start, load, attach, read, print', s.withoutExtraCa.overheadMs),
              row('  node + CLI alone (tuner --version)', s.withoutExtraCa.nodeBareMs),
            ]
          : []),
        row('bpftrace: launch to "Attaching N probes"', s.bpftrace.attachingMs),
        row('bpftrace: launch to first histogram - 1 s', s.bpftrace.attachedMs),
        row('bpftrace: launch to first histogram', s.bpftrace.firstOutputMs),
      ],
      notes: [
        `peak RSS of the tuner tree during start-up (5 ms samples): ${f(s.startupPeakRssMb)} MB; per command: ${Object.entries(
          s.startupPeakByComm,
        )
          .map(([c, mb]) => `${c} ${f(mb)} MB`)
          .join(', ')}`,
      ],
    });
  }
  if (r.scale && r.scale.idle.length > 0) {
    const s = r.scale;
    out.push({
      title: `Scale: one read of the scheduler reader at idle processes (single-threaded sleepers that ran once, at their start)`,
      head: [
        'processes',
        'tasks on host',
        'first read ms (median)',
        'first runs ms',
        'node CPU ms',
        'entries',
        'steady read ms (median)',
        'node CPU ms',
        'steady runs ms',
      ],
      rows: s.idle.map((x) => [
        x.processes.toLocaleString('en-US'),
        String(x.tasks),
        f(x.first.wallMs),
        x.first.wallMsRuns.map((v) => f(v)).join(' '),
        f(x.first.nodeCpuMs),
        String(x.first.procEntries),
        f(x.steady.wallMs),
        f(x.steady.nodeCpuMs),
        x.steady.wallMsRuns.map((v) => f(v)).join(' '),
      ]),
      notes: [
        'first: the read after they started (every one new in the maps), once per repetition, each with new sleepers and a new reader; steady: the reads after it, 1 s apart, of every repetition',
      ],
    });
  }
  const stepRows: string[][] = [];
  const stepRow = (what: string, st: SchedReadSteps | undefined): void => {
    if (st) stepRows.push([what, f(st.flushMs), f(st.dumpMs), f(st.dumpBytes / 1e6, 2), f(st.indexMs), f(st.deltasMs)]);
  };
  for (const x of r.scale?.idle ?? []) stepRow(`${x.processes.toLocaleString('en-US')} idle processes, first read`, x.first.steps);
  for (const x of r.scale?.rows ?? [])
    stepRow(
      `${x.threads.toLocaleString('en-US')} threads in ${x.processes === 1 ? '1 process' : `${x.processes.toLocaleString('en-US')} processes`}, woken once`,
      x.steps,
    );
  if (stepRows.length) {
    out.push({
      title: 'Scale: where a read goes (medians of each step)',
      head: ['read', 'flush iterator ms', 'dump iterator ms', 'dump MB', 'indexing ms', 'deltas ms'],
      rows: stepRows,
      notes: ['the iterators run in the kernel inside the read(2) of their pinned links; indexing and deltas are node'],
    });
  }
  if (r.scale && r.scale.rows.length > 0) {
    const s = r.scale;
    out.push({
      title: `Scale: one interval's map read (reader.read(), medians of ${s.reads} reads, every thread woken since the previous read)`,
      head: ['threads', 'processes', 'tasks on host', 'process entries', 'read ms', 'node CPU ms', 'bpftool CPU ms'],
      rows: s.rows.map((x) => [
        x.threads.toLocaleString('en-US'),
        x.processes.toLocaleString('en-US'),
        String(x.tasks),
        String(x.procEntries),
        f(x.wallMs),
        f(x.nodeCpuMs),
        f(x.bpftoolCpuMs),
      ]),
      notes: [
        'node CPU includes the flush iterator, which runs in the kernel inside its read(2) of the pinned link',
        ...s.skipped.map(
          (x) =>
            `not measured: ${x.threads.toLocaleString('en-US')} threads in ${x.processes.toLocaleString('en-US')} processes (${x.reason})`,
        ),
      ],
    });
  }
  const targets = evaluate(r);
  if (targets.length) {
    out.push({
      title: 'Targets',
      head: ['target', 'limit', 'measured', 'status'],
      rows: targets.map((t) => [t.what, t.limit, t.figure, t.met ? 'met' : 'MISSED']),
    });
  }
  return out;
}

export function renderText(r: Results, header: string): string {
  return [
    header,
    '',
    ...tables(r)
      .map(toText)
      .flatMap((t) => [t, '']),
  ].join('\n');
}

export function renderMarkdown(r: Results, header: string): string {
  return [
    '# tuner overhead benchmark',
    '',
    header,
    '',
    ...tables(r)
      .map(toMarkdown)
      .flatMap((t) => [t, '']),
  ].join('\n');
}
