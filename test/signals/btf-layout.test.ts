/**
 * The binary layouts userspace decodes by hand, checked against the BTF of
 * the committed objects (`bpftool btf dump file OBJ -j`): a member moved or a
 * struct resized in bpf/*.h fails here, not as silently misread numbers.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EVENT_LAYOUT } from '../../src/signals/events/bpf.js';
import { FUTEX_LAYOUT } from '../../src/signals/futex/dump.js';
import { IO_LAYOUT } from '../../src/signals/io/dump.js';
import { NET_LAYOUT } from '../../src/signals/net/dump.js';
import { SCHED_LAYOUT, SCHED_SPARSE_LAYOUT } from '../../src/signals/sched/dump.js';

interface BtfType {
  name?: string;
  kind: string;
  size?: number;
  members?: Array<{ name: string; bits_offset: number }>;
}

function btfStructs(object: string): Map<string, BtfType> {
  const file = fileURLToPath(new URL(`../../bpf/${object}`, import.meta.url));
  const dump = JSON.parse(execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', file], { encoding: 'utf8' })) as { types: BtfType[] };
  return new Map(dump.types.filter((t) => t.kind === 'STRUCT' && t.name).map((t) => [t.name!, t]));
}

const hasBpftool = ((): boolean => {
  try {
    execFileSync('bpftool', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const CASES: Array<[string, string, { size: number; members: Record<string, number> }]> = [
  // The compat variants share the layouts (one source, bpf/include/variant.bpf.h).
  ...['sched.bpf.o', 'sched_compat.bpf.o'].flatMap((o) =>
    Object.entries(SCHED_LAYOUT).map(([name, l]) => [o, name, l] as [string, string, typeof l]),
  ),
  ...Object.entries(SCHED_SPARSE_LAYOUT).map(([name, l]) => ['sched.bpf.o', name, l] as [string, string, typeof l]),
  ...['futex.bpf.o', 'futex_compat.bpf.o'].flatMap((o) =>
    Object.entries(FUTEX_LAYOUT).map(([name, l]) => [o, name, l] as [string, string, typeof l]),
  ),
  // The dump objects declare the hooks' maps again: both must agree with what is decoded.
  ...['io.bpf.o', 'io_dump.bpf.o'].flatMap((o) => Object.entries(IO_LAYOUT).map(([name, l]) => [o, name, l] as [string, string, typeof l])),
  ...['net_sock.bpf.o', 'net_dump.bpf.o'].map((o) => [o, 'net_proc', NET_LAYOUT.net_proc] as [string, string, typeof NET_LAYOUT.net_proc]),
  ...['net_tcp.bpf.o', 'net_dump.bpf.o'].map((o) => [o, 'net_peer', NET_LAYOUT.net_peer] as [string, string, typeof NET_LAYOUT.net_peer]),
  ...['sched.bpf.o', 'sched_compat.bpf.o', 'futex.bpf.o', 'futex_compat.bpf.o', 'io.bpf.o'].map(
    (o) => [o, 'tuner_event', EVENT_LAYOUT.tuner_event] as [string, string, typeof EVENT_LAYOUT.tuner_event],
  ),
];

describe.skipIf(!hasBpftool && !process.env.TUNER_REQUIRE_BPF)('BPF struct layouts against the objects’ BTF', () => {
  it.each(CASES)('%s: struct %s', (object, name, layout) => {
    const t = btfStructs(object).get(name);
    expect(t, `struct ${name} is not in the BTF of bpf/${object}`).toBeDefined();
    expect(t!.size).toBe(layout.size);
    const offsets = Object.fromEntries((t!.members ?? []).map((m) => [m.name, m.bits_offset / 8]));
    for (const [member, offset] of Object.entries(layout.members)) expect({ member, offset: offsets[member] }).toEqual({ member, offset });
  });
});
