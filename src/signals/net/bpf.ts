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
import { mapReads, type MapReads } from '../map-reads.js';
import { deleteU32Keys, IdlePruner } from '../idle-prune.js';
import { ObjectLoadError } from '../../loader/instance.js';
import { IterBuffer } from '../../loader/iter.js';
import type { BpftoolBatch } from '../../tools/batch.js';
import { ChangedEntries } from '../futex/dump.js';
import { DUMP_GC_EVERY } from '../io/dump.js';
import { decodeNetDump, type NetDump, type NetProcCounts, type PeerKey, type Written } from './dump.js';
import type { NetDelta } from './record.js';

export const NET_HOOKS = { net_tcp: 'tcp_retransmit_skb', net_drop: 'kfree_skb', net_sock: 'sock_send_length/sock_recv_length' } as const;
// net_sock's compat variant (before 6.4) counts the same bytes at the inet, inet6 and unix sendmsg/recvmsg functions.
type NetObject = keyof typeof NET_HOOKS;

type Json = Record<string, unknown>;

/** The maps of each hook object that net_dump.bpf.o reads (passed to it at load). */
const NET_MAPS: Record<NetObject, string[]> = {
  net_tcp: ['net_retrans', 'net_retrans_cg'],
  net_drop: ['net_drops'],
  net_sock: ['net_procs'],
};

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
export function formatPeer(k: Json | PeerKey): string {
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
  /** How reads get the maps: net_dump's iterator, or bpftool (where the kernel refused net_dump, with its reason in `warnings`). */
  readsBy: 'iterator' | 'bpftool';
}

export async function openNetBpf(scope: SchedScope, opts: BpfOpenOptions & { mapReads?: MapReads } = {}): Promise<NetReader> {
  const reads = mapReads(opts.mapReads);
  const objects = await openBpfObjects(scope, opts);
  const { session } = objects;
  // Map dumps go through the session's shared bpftool (objects.batch is never asked: no process of its own).
  const shared = sessionBatch(opts.session);
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
  let dumper: Instance | undefined;
  if (reads === 'auto') {
    // net_dump reads the maps of the hook objects that loaded (its own, empty, stand in for the others).
    const reuse: Record<string, string> = {};
    for (const [obj, maps] of Object.entries(NET_MAPS) as Array<[NetObject, string[]]>) {
      const inst = loaded.get(obj);
      if (inst) for (const m of maps) reuse[m] = inst.map(m);
    }
    try {
      dumper = await objects.load('net_dump', reuse);
    } catch (err) {
      if (!(err instanceof ObjectLoadError)) {
        close();
        throw err;
      }
      warnings.push(`net: maps read through bpftool (${messageOf(err).split('\n')[0]})`);
    }
  }
  const readsBy: NetReader['readsBy'] = dumper ? 'iterator' : 'bpftool';
  const reasons = readDropReasons();
  const observe = dumper ? iteratorObserve(dumper) : bpftoolObserve(shared.batch, loaded);
  // With the iterator, bpftool is not needed after set-up (its memory goes with it, once no other reader shares it).
  if (dumper) shared.release();
  let last = process.hrtime.bigint();
  const read = async (): Promise<NetDelta> => {
    const now = process.hrtime.bigint();
    const seen = await observe();
    const intervalNs = Number(now - last);
    last = now;
    const out: NetDelta = { intervalNs, hooks, retrans: [], retransByCgroup: [], drops: [], procs: [] };
    for (const { key, cur, prev } of seen.peers) {
      const d = delta64(cur, prev);
      if (d > 0) out.retrans.push({ peer: key, count: d });
    }
    for (const { key, cur, prev } of seen.cgroups) {
      const d = delta64(cur, prev);
      if (d > 0) out.retransByCgroup.push({ cgroupId: key, count: d });
    }
    for (const { key, cur, prev } of seen.drops) {
      const d = delta64(cur, prev);
      if (d > 0) out.drops.push({ reason: dropReasonName(reasons, key), code: key, count: d });
    }
    for (const { key, cur: c, prev: p } of seen.procs) {
      const d = {
        pid: key,
        comm: c.comm,
        txBytes: delta64(c.tx, p?.tx),
        rxBytes: delta64(c.rx, p?.rx),
        txCalls: delta64(c.txc, p?.txc),
        rxCalls: delta64(c.rxc, p?.rxc),
      };
      if (d.txCalls || d.rxCalls) out.procs.push(d);
    }
    return out;
  };
  try {
    await read();
  } catch (err) {
    close();
    throw err;
  }
  return {
    backend: 'bpf',
    hooks,
    variants,
    warnings,
    readsBy,
    helperPids: () => [...objects.helperPids(), ...shared.helperPids()],
    close,
    read,
  };
}

interface Pair<K, V> {
  key: K;
  cur: V;
  prev: V | undefined;
}

/** One read of the four maps: each entry read, with its previous reading (undefined when new). */
interface NetObserved {
  peers: Array<Pair<string, bigint>>;
  cgroups: Array<Pair<string, bigint>>;
  drops: Array<Pair<number, bigint>>;
  procs: Array<Pair<number, NetProcCounts>>;
}

/** Passes of the dump iterator per read at most (one holds hundreds of changed entries). */
const MAX_PASSES = 8;

/** Reads through net_dump's iterator: the entries changed since the last read. */
function iteratorObserve(dumper: Instance): () => Promise<NetObserved> {
  const iter = new IterBuffer();
  const link = dumper.link('dump');
  const peers = new ChangedEntries<Written<PeerKey, bigint>>();
  const cgroups = new ChangedEntries<Written<bigint, bigint>>();
  const drops = new ChangedEntries<Written<number, bigint>>();
  const procs = new ChangedEntries<Written<number, NetProcCounts>>();
  let reads = 0;
  const pairs = <K, V>(entries: ChangedEntries<Written<K, V>>, list: Array<Written<K, V>>, name: (k: K) => string, cycle: bigint) =>
    list.map((e) => ({ key: e.key, cur: e.value, prev: entries.step(name(e.key), e, cycle)?.value }));
  return async () => {
    let dump: NetDump = decodeNetDump(iter.read(link));
    for (let pass = 1; dump.more && pass < MAX_PASSES; pass++) {
      const next = decodeNetDump(iter.read(link));
      dump = {
        ...next,
        peers: [...dump.peers, ...next.peers],
        cgroups: [...dump.cgroups, ...next.cgroups],
        drops: [...dump.drops, ...next.drops],
        procs: [...dump.procs, ...next.procs],
      };
    }
    const cycle = dump.cycle ?? 0n;
    const out: NetObserved = {
      peers: pairs(peers, dump.peers, formatPeer, cycle).map((p) => ({ ...p, key: formatPeer(p.key) })),
      cgroups: pairs(cgroups, dump.cgroups, String, cycle).map((p) => ({ ...p, key: String(p.key) })),
      drops: pairs(drops, dump.drops, String, cycle),
      procs: pairs(procs, dump.procs, String, cycle),
    };
    // The kernel side removes idle entries late by up to DUMP_GC_EVERY cycles: forget them that much later.
    if (++reads % 8 === 0) for (const e of [peers, cgroups, drops, procs]) e.prune(cycle - DUMP_GC_EVERY);
    return out;
  };
}

/** Reads through bpftool: the four maps dumped whole; idle process entries deleted from here (idle-prune.ts). */
function bpftoolObserve(batch: BpftoolBatch, loaded: Map<NetObject, Instance>): () => Promise<NetObserved> {
  let prevPeers = new Map<string, bigint>();
  let prevCg = new Map<string, bigint>();
  let prevDrops = new Map<number, bigint>();
  let prevProcs = new Map<number, NetProcCounts>();
  const pruner = new IdlePruner();
  const dump = async (obj: NetObject, map: string): Promise<Array<{ formatted: Json }>> => {
    const inst = loaded.get(obj);
    return inst ? ((await batch.request(['map', 'dump', 'pinned', inst.map(map)])) as Array<{ formatted: Json }>) : [];
  };
  const pairs = <K, V>(cur: Map<K, V>, prev: Map<K, V>): Array<Pair<K, V>> =>
    [...cur].map(([key, v]) => ({ key, cur: v, prev: prev.get(key) }));
  return async () => {
    // Asked together: bpftool answers them in order, and gets them in one write.
    const [peers, cgs, drops, procs] = await Promise.all([
      dump('net_tcp', 'net_retrans'),
      dump('net_tcp', 'net_retrans_cg'),
      dump('net_drop', 'net_drops'),
      dump('net_sock', 'net_procs'),
    ]);
    const curPeers = new Map(peers.map(({ formatted: f }) => [formatPeer(f.key as Json), u64(f.value)]));
    const curCg = new Map(cgs.map(({ formatted: f }) => [String(u64(f.key)), u64(f.value)]));
    const curDrops = new Map<number, bigint>();
    for (const { formatted: f } of drops) {
      const total = ((f.values as Array<{ value: unknown }>) ?? []).reduce((s, v) => s + u64(v.value), 0n);
      if (total > 0n) curDrops.set(Number(f.key), total);
    }
    const curProcs = new Map<number, NetProcCounts>();
    for (const { formatted: f } of procs) {
      const v = f.value as Json;
      curProcs.set(Number(f.key), {
        tx: u64(v.tx_bytes),
        rx: u64(v.rx_bytes),
        txc: u64(v.tx_calls),
        rxc: u64(v.rx_calls),
        comm: String(v.comm ?? ''),
      });
    }
    const out: NetObserved = {
      peers: pairs(curPeers, prevPeers),
      cgroups: pairs(curCg, prevCg),
      drops: pairs(curDrops, prevDrops),
      procs: pairs(curProcs, prevProcs),
    };
    [prevPeers, prevCg, prevDrops, prevProcs] = [curPeers, curCg, curDrops, curProcs];
    const sock = loaded.get('net_sock');
    // net_procs grows with every process that ever used a socket: idle entries go (idle-prune.ts).
    if (sock) {
      const seen = out.procs.map(({ key, cur, prev }): [string, boolean] => [String(key), cur.txc !== prev?.txc || cur.rxc !== prev?.rxc]);
      await deleteU32Keys(batch, sock.map('net_procs'), pruner.step(seen));
    }
    return out;
  };
}
