/** Effective capabilities of this process (/proc/self/status CapEff), for privilege checks. */
import { readFileSync } from 'node:fs';

export const CAP_SYS_NICE = 23n;
export const CAP_SYS_ADMIN = 21n;
export const CAP_PERFMON = 38n;
export const CAP_BPF = 39n;

export function effectiveCaps(status = readFileSync('/proc/self/status', 'utf8')): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt('0x' + m[1]) : 0n;
}

export function hasCap(caps: bigint, bit: bigint): boolean {
  return (caps & (1n << bit)) !== 0n;
}

/** Loading and attaching tracing programs needs CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN. */
export function canLoadBpf(caps = effectiveCaps()): boolean {
  return hasCap(caps, CAP_SYS_ADMIN) || (hasCap(caps, CAP_BPF) && hasCap(caps, CAP_PERFMON));
}
