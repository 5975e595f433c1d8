/**
 * Gate for kernel tests: they need root, bpffs and bpftool with autoattach.
 * Without them the suite is skipped, unless TUNER_REQUIRE_BPF=1 (CI), where
 * a missing prerequisite fails the run instead of skipping silently.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'no kernel BTF';
  if (!readFileSync('/proc/self/mountinfo', 'utf8').includes(' /sys/fs/bpf ')) return 'bpffs not mounted';
  try {
    const v = execFileSync('bpftool', ['version'], { encoding: 'utf8' });
    const m = /v(\d+)\.(\d+)/.exec(v);
    if (!m || Number(m[1]) * 100 + Number(m[2]) < 702) return `bpftool too old (${v.split('\n')[0]})`;
  } catch {
    return 'bpftool missing';
  }
  return undefined;
}

export const kernelMissing = missing();
export const requireBpf = process.env.TUNER_REQUIRE_BPF === '1';

if (kernelMissing && requireBpf) {
  throw new Error(`TUNER_REQUIRE_BPF=1 but kernel tests cannot run: ${kernelMissing}`);
}

/** True when kernel tests must be skipped. */
export const skipKernel = kernelMissing !== undefined;

/** Pin directories tuner left in bpffs (should be none after every test). */
export function leftoverPins(): string[] {
  try {
    return readdirSync('/sys/fs/bpf/tuner');
  } catch {
    return [];
  }
}

export function hasBpftrace(): boolean {
  try {
    execFileSync('bpftrace', ['--version']);
    return true;
  } catch {
    return false;
  }
}
