/**
 * Network signal, CO-RE, one object per hook because each tracepoint exists
 * from a different kernel on: bpf/net_tcp.bpf.o (TCP retransmissions),
 * bpf/net_drop.bpf.o (packet drops with their reason), bpf/net_sock.bpf.o
 * (bytes through sockets per process). A hook missing on a kernel is one
 * warning; the others keep working.
 */
import { readFileSync } from 'node:fs';
import type { Instance } from '../../loader/instance.js';
import { u64 } from '../../tools/json.js';
import { messageOf } from '../../errors.js';
import { delta64 } from '../cumulative.js';
import type { BpfOpenOptions, SchedScope, SignalReader } from '../reader.js';
import { openBpfObjects } from '../bpf-objects.js';
import { variantOf, type Variant } from '../../loader/variant.js';
import { sessionBatch } from '../session-batch.js';
import { deleteU32Keys, IdlePruner } from '../idle-prune.js';
import type { NetDelta } from './record.js';

export const NET_HOOKS = { net_tcp: 'tcp_retransmit_skb', net_drop: 'kfree_skb', net_sock: 'sock_send_length/sock_recv_length' } as const;
// net_sock's compat variant (before 6.4) counts the same bytes at the inet, inet6 and unix sendmsg/recvmsg functions.
type NetObject = keyof typeof NET_HOOKS;

type Json = Record<string, unknown>;

/** Drop reason names from the kfree_skb tracepoint format (its __print_symbolic table). */
export function parseDropReasons(format: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of format.matchAll(/\{\s*(\d+)\s*,\s*"([A-Z0-9_]+)"\s*\}/g)) out.set(Number(m[1]), m[2]!);
  return out;
}

/** bpf/net.h NET_DROP_NO_REASON: every drop of a kernel whose kfree_skb tracepoint has no reason (before 5.17). */
export const NET_DROP_NO_REASON = 511;

/** A drop reason's name; a kernel without reasons counts all drops under one "unknown" row. */
export function dropReasonName(reasons: Map<number, string>, code: number): string {
  if (code === NET_DROP_NO_REASON) return 'UNKNOWN (this kernel reports no drop reason)';
  return reasons.get(code) ?? `reason ${code}`;
}

function readDropReasons(): Map<number, string> {
  for (const root of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) {
    try {
      return parseDropReasons(readFileSync(`${root}/events/skb/kfree_skb/format`, 'utf8'));
    } catch {
      /* next */
    }
  }
  return new Map();
}

/** "10.1.2.3:443" or "[2001:db8::1]:443" from struct net_peer as bpftool formats it. */
export function formatPeer(k: Json): string {
  const port = ((Number(k.dport) & 0xff) << 8) | (Number(k.dport) >> 8); // network byte order
  const bytes = (k.daddr as unknown[]).map(Number);
  if (Number(k.family) === 2) return `${bytes.slice(0, 4).join('.')}:${port}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return `[${groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')}]:${port}`;
}

export interface NetReader extends SignalReader<NetDelta> {
  hooks: Record<string, boolean>;
  /** The variant each loaded object took (net_sock: compat before 6.4, see loader/variant.ts). */
  variants: Partial<Record<NetObject, Variant>>;
  warnings: string[];
}

export async function openNetBpf(scope: SchedScope, opts: BpfOpenOptions = {}): Promise<NetReader> {
  const objects = await openBpfObjects(scope, opts);
  const { session } = objects;
  // Map dumps go through the session's shared bpftool (objects.batch is never asked: no process of its own).
  const shared = sessionBatch(opts.session);
  const { batch } = shared;
  const close = (): void => {
    shared.release();
    objects.close();
  };
  const loaded = new Map<NetObject, Instance>();
  const warnings: string[] = [];
  const hooks: Record<string, boolean> = {};
  const variants: NetReader['variants'] = {};
  for (const name of Object.keys(NET_HOOKS) as NetObject[]) {
    try {
      const reuse: Record<string, string> =
        name === 'net_sock' ? { tuner_scope: session.maps.tuner_scope, tuner_pids: session.maps.tuner_pids } : {};
      loaded.set(name, await objects.load(name, reuse));
      hooks[NET_HOOKS[name]] = true;
      variants[name] = variantOf(name);
    } catch (err) {
      hooks[NET_HOOKS[name]] = false;
      warnings.push(
        `net: ${NET_HOOKS[name]} is not available on this kernel (${messageOf(err).split('\n')[0]}); the other network hooks keep working`,
      );
    }
  }
  if (loaded.size === 0) {
    close();
    throw new Error(`net: no network hook could be loaded:\n  ${warnings.join('\n  ')}`);
  }
  const reasons = readDropReasons();
  let prevPeers = new Map<string, bigint>();
  let prevCg = new Map<string, bigint>();
  let prevDrops = new Map<number, bigint>();
  let prevProcs = new Map<string, { tx: bigint; rx: bigint; txc: bigint; rxc: bigint }>();
  const pruner = new IdlePruner();
  let last = process.hrtime.bigint();
  const dump = async (obj: NetObject, map: string): Promise<Array<{ formatted: Json }>> => {
    const inst = loaded.get(obj);
    return inst ? ((await batch.request(['map', 'dump', 'pinned', inst.map(map)])) as Array<{ formatted: Json }>) : [];
  };
  const read = async (): Promise<NetDelta> => {
    const now = process.hrtime.bigint();
    // Asked together: bpftool answers them in order, and gets them in one write.
    const [peers, cgs, drops, procs] = await Promise.all([
      dump('net_tcp', 'net_retrans'),
      dump('net_tcp', 'net_retrans_cg'),
      dump('net_drop', 'net_drops'),
      dump('net_sock', 'net_procs'),
    ]);
    const intervalNs = Number(now - last);
    last = now;
    const out: NetDelta = { intervalNs, hooks, retrans: [], retransByCgroup: [], drops: [], procs: [] };
    const curPeers = new Map(peers.map(({ formatted: f }) => [formatPeer(f.key as Json), u64(f.value)]));
    for (const [peer, n] of curPeers) {
      const d = delta64(n, prevPeers.get(peer));
      if (d > 0) out.retrans.push({ peer, count: d });
    }
    prevPeers = curPeers;
    const curCg = new Map(cgs.map(({ formatted: f }) => [String(u64(f.key)), u64(f.value)]));
    for (const [cg, n] of curCg) {
      const d = delta64(n, prevCg.get(cg));
      if (d > 0) out.retransByCgroup.push({ cgroupId: cg, count: d });
    }
    prevCg = curCg;
    const curDrops = new Map<number, bigint>();
    for (const { formatted: f } of drops) {
      const total = ((f.values as Array<{ value: unknown }>) ?? []).reduce((s, v) => s + u64(v.value), 0n);
      if (total > 0n) curDrops.set(Number(f.key), total);
    }
    for (const [r, n] of curDrops) {
      const d = delta64(n, prevDrops.get(r));
      if (d > 0) out.drops.push({ reason: dropReasonName(reasons, r), code: r, count: d });
    }
    prevDrops = curDrops;
    const curProcs = new Map<string, { tx: bigint; rx: bigint; txc: bigint; rxc: bigint; comm: string }>();
    for (const { formatted: f } of procs) {
      const v = f.value as Json;
      curProcs.set(String(f.key), {
        tx: u64(v.tx_bytes),
        rx: u64(v.rx_bytes),
        txc: u64(v.tx_calls),
        rxc: u64(v.rx_calls),
        comm: String(v.comm ?? ''),
      });
    }
    const seen: Array<[string, boolean]> = [];
    for (const [pid, c] of curProcs) {
      const p = prevProcs.get(pid);
      const d = {
        pid: Number(pid),
        comm: c.comm,
        txBytes: delta64(c.tx, p?.tx),
        rxBytes: delta64(c.rx, p?.rx),
        txCalls: delta64(c.txc, p?.txc),
        rxCalls: delta64(c.rxc, p?.rxc),
      };
      if (d.txCalls || d.rxCalls) out.procs.push(d);
      seen.push([pid, d.txCalls !== 0 || d.rxCalls !== 0]);
    }
    prevProcs = curProcs;
    const sock = loaded.get('net_sock');
    // net_procs grows with every process that ever used a socket: idle entries go (idle-prune.ts).
    if (sock) await deleteU32Keys(batch, sock.map('net_procs'), pruner.step(seen));
    return out;
  };
  try {
    await read();
  } catch (err) {
    close();
    throw err;
  }
  return { backend: 'bpf', hooks, variants, warnings, helperPids: () => [...objects.helperPids(), ...shared.helperPids()], close, read };
}
