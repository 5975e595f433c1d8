/**
 * KnobIo without a machine: values live in memory. SimIo starts every knob
 * at an assumed value (`--assume PATH=VALUE` in replay) or the kernel's
 * default for that file; OverlayIo (audit mode) reads the real host until a
 * knob is "written", then remembers the would-be value. Neither writes
 * anything outside the process.
 */
import path from 'node:path';
import { canonicalCpuList, formatCpuList } from '../topology/cpulist.js';
import { knobId, knobLabel, type KnobIo, type KnobRef } from './knob.js';
import { nodesWithPages } from '../signals/numa/procfs.js';

/** Kernel defaults of the files actions touch, by file name. */
export const FILE_DEFAULTS: Record<string, string> = {
  'cpu.weight': '100',
  'cpu.shares': '1024',
  'cpu.max': 'max 100000',
  'cpu.cfs_quota_us': '-1',
  'cpu.cfs_period_us': '100000',
  read_ahead_kb: '128',
  'cpuset.mems': '0',
  'cpuset.memory_migrate': '0',
};

const norm = (s: string): string => s.trim().replace(/\s+/g, ' ');

export class SimIo implements KnobIo {
  readonly values = new Map<string, string>();
  /** Every write, in order: what property tests and replay inspect. */
  readonly writes: Array<{ knob: KnobRef; value: string }> = [];

  constructor(
    private readonly cpus: number[],
    private readonly assume: ReadonlyMap<string, string> = new Map(),
    /** Where a process's pages are (replay: learned from the feed's numa records). */
    private readonly pagesOf: (pid: number) => ReadonlyMap<number, number> | undefined = () => undefined,
  ) {}

  private initial(k: KnobRef): string {
    const assumed = this.assume.get(knobLabel(k)) ?? (k.kind === 'file' ? this.assume.get(k.path) : undefined);
    if (assumed !== undefined) return isList(k) ? canonicalCpuList(assumed) : norm(assumed);
    if (k.kind === 'affinity' || isCpuList(k)) return formatCpuList(this.cpus);
    if (k.kind === 'hook') return '0';
    if (k.kind === 'pages') {
      const pages = this.pagesOf(k.pid);
      if (!pages) throw new Error(`no simulated value for ${knobLabel(k)}: give one with --assume '${knobLabel(k)}=NODES'`);
      return nodesWithPages(pages);
    }
    const d = FILE_DEFAULTS[path.basename(k.path)];
    if (d === undefined) throw new Error(`no simulated value for ${k.path}: give one with --assume ${k.path}=VALUE`);
    return d;
  }

  readSync(k: KnobRef): string {
    const id = knobId(k);
    let v = this.values.get(id);
    if (v === undefined) {
      v = this.initial(k);
      this.values.set(id, v);
    }
    return v;
  }

  writeSync(k: KnobRef, value: string): void {
    this.readSync(k);
    this.values.set(knobId(k), isList(k) ? canonicalCpuList(value) : norm(value));
    this.writes.push({ knob: k, value });
  }

  async read(k: KnobRef): Promise<string> {
    return this.readSync(k);
  }

  async write(k: KnobRef, value: string): Promise<void> {
    this.writeSync(k, value);
  }
}

function isCpuList(k: KnobRef): boolean {
  return k.kind === 'file' && path.basename(k.path) === 'cpuset.cpus';
}

/** Values in the kernel's list format, kept canonical. */
function isList(k: KnobRef): boolean {
  return k.kind === 'affinity' || k.kind === 'pages' || isCpuList(k);
}

/** Audit mode: real reads, remembered writes. */
export class OverlayIo implements KnobIo {
  private overlay = new Map<string, string>();

  constructor(private readonly base: KnobIo) {}

  async read(k: KnobRef): Promise<string> {
    return this.overlay.get(knobId(k)) ?? (await this.base.read(k));
  }

  readSync(k: KnobRef): string {
    return this.overlay.get(knobId(k)) ?? this.base.readSync(k);
  }

  async write(k: KnobRef, value: string): Promise<void> {
    this.writeSync(k, value);
  }

  writeSync(k: KnobRef, value: string): void {
    this.overlay.set(knobId(k), isList(k) ? canonicalCpuList(value) : norm(value));
  }
}
