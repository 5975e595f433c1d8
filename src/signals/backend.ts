/**
 * Which backend reads a signal: the CO-RE objects loaded with bpftool
 * (needs autoattach, bpftool 7.2+), or bpftrace scripts. `auto` prefers
 * CO-RE and falls back to bpftrace when bpftool cannot attach.
 */
import { KernelError } from '../errors.js';
import { bpftoolVersion } from '../tools/bpftool.js';
import { runTool, SETUP_HINT } from '../tools/run.js';

export type Backend = 'bpf' | 'bpftrace';
export type BackendChoice = Backend | 'auto';

let cached: Promise<{ autoattach: boolean; bpftrace: boolean; bpftoolVersion?: string }> | undefined;

function probeTools(): Promise<{ autoattach: boolean; bpftrace: boolean; bpftoolVersion?: string }> {
  cached ??= (async () => {
    const [bt, tr] = await Promise.allSettled([bpftoolVersion(), runTool('bpftrace', ['--version'], { timeoutMs: 10_000 })]);
    return {
      autoattach: bt.status === 'fulfilled' && bt.value.autoattach,
      bpftrace: tr.status === 'fulfilled',
      ...(bt.status === 'fulfilled' ? { bpftoolVersion: bt.value.version } : {}),
    };
  })();
  return cached;
}

export async function chooseBackend(requested: BackendChoice): Promise<Backend> {
  const tools = await probeTools();
  if (requested === 'bpf' || (requested === 'auto' && tools.autoattach)) {
    if (!tools.autoattach) {
      throw new KernelError(
        tools.bpftoolVersion
          ? `--backend bpf needs bpftool 7.2 or newer (autoattach); this is bpftool ${tools.bpftoolVersion}`
          : '--backend bpf needs bpftool, which is not installed',
        { hint: SETUP_HINT },
      );
    }
    return 'bpf';
  }
  if (!tools.bpftrace) {
    throw new KernelError(
      requested === 'bpftrace' ? '--backend bpftrace: bpftrace is not installed' : 'neither bpftool with autoattach nor bpftrace is available',
      { hint: SETUP_HINT },
    );
  }
  return 'bpftrace';
}

