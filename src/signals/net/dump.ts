/**
 * The output of net_dump.bpf.o's `dump` iterator (bpf/net.h: struct net_rec,
 * then the entry's value, or struct net_end last): only the entries changed
 * since they were last written, each with the cycle it was first written in
 * (`created`: a new entry under an old key counts from zero). Offsets follow
 * the C layout (naturally aligned, little-endian); every record carries its
 * value's size, checked here. A test checks struct net_proc and net_peer
 * against the object's BTF.
 */

/** Values of bpf/net.h. */
const REC_PEER = 1;
const REC_CGROUP = 2;
const REC_DROP = 3;
const REC_PROC = 4;
const REC_END = 5;

/** struct net_rec: kind, size (u32), created (u64), key[24]. */
const REC = { kind: 0, size: 4, created: 8, key: 16, bytes: 40 };

/** struct net_peer: family, dport (u16), pad (u32), daddr[16]. */
const PEER = { family: 0, dport: 2, daddr: 8, size: 24 };

/** struct net_proc: four u64, char comm[16]. */
const PROC = { txBytes: 0, rxBytes: 8, txCalls: 16, rxCalls: 24, comm: 32, size: 48 };

/** struct net_end: six u64. */
const END = { cycle: 0, more: 8, peers: 16, cgroups: 24, drops: 32, procs: 40, size: 48 };

/** The map entries read here, by their bpf/net.h names (struct net_rec and net_end are absent from the BTF: sizes checked per record). */
export const NET_LAYOUT = {
  net_peer: { size: PEER.size, members: { family: PEER.family, dport: PEER.dport, daddr: PEER.daddr } },
  net_proc: {
    size: PROC.size,
    members: { tx_bytes: PROC.txBytes, rx_bytes: PROC.rxBytes, tx_calls: PROC.txCalls, rx_calls: PROC.rxCalls, comm: PROC.comm },
  },
};

/** A remote endpoint as bpftool formats struct net_peer (what formatPeer reads). */
export interface PeerKey {
  family: number;
  dport: number;
  daddr: number[];
}

export interface NetProcCounts {
  tx: bigint;
  rx: bigint;
  txc: bigint;
  rxc: bigint;
  comm: string;
}

export interface Written<K, V> {
  key: K;
  created: bigint;
  value: V;
}

export interface NetDump {
  peers: Array<Written<PeerKey, bigint>>;
  cgroups: Array<Written<bigint, bigint>>;
  drops: Array<Written<number, bigint>>;
  procs: Array<Written<number, NetProcCounts>>;
  /** The cycle the pass ended; undefined without struct net_end. */
  cycle?: bigint;
  /** Changed entries did not all fit: run the iterator again for the rest. */
  more: boolean;
  /** Entries in the maps after the pass. */
  entries: { peers: number; cgroups: number; drops: number; procs: number };
}

const u64 = (b: Buffer, o: number): bigint => b.readBigUInt64LE(o);

const SIZES: Record<number, number> = { [REC_PEER]: 8, [REC_CGROUP]: 8, [REC_DROP]: 8, [REC_PROC]: PROC.size, [REC_END]: END.size };

/** Decode one run of the iterator (a view of its output, copied out). */
export function decodeNetDump(buf: Buffer): NetDump {
  const out: NetDump = { peers: [], cgroups: [], drops: [], procs: [], more: false, entries: { peers: 0, cgroups: 0, drops: 0, procs: 0 } };
  let o = 0;
  while (o < buf.length) {
    if (buf.length - o < REC.bytes) throw new Error(`net dump: ${buf.length - o} stray bytes at offset ${o}`);
    const kind = buf.readUInt32LE(o + REC.kind);
    const size = buf.readUInt32LE(o + REC.size);
    const created = u64(buf, o + REC.created);
    const k = o + REC.key;
    const v = o + REC.bytes;
    if (v + size > buf.length) throw new Error(`net dump: record of ${size} bytes at offset ${o} runs past the end (${buf.length})`);
    const expect = SIZES[kind];
    if (expect === undefined) throw new Error(`net dump: unknown record kind ${kind} at offset ${o}`);
    if (size !== expect)
      throw new Error(`net dump: record kind ${kind} has ${size} bytes, this build reads ${expect} (object and code disagree)`);
    if (kind === REC_PEER) {
      const key = {
        family: buf.readUInt16LE(k + PEER.family),
        dport: buf.readUInt16LE(k + PEER.dport),
        daddr: [...buf.subarray(k + PEER.daddr, k + PEER.daddr + 16)],
      };
      out.peers.push({ key, created, value: u64(buf, v) });
    } else if (kind === REC_CGROUP) {
      out.cgroups.push({ key: u64(buf, k), created, value: u64(buf, v) });
    } else if (kind === REC_DROP) {
      out.drops.push({ key: buf.readUInt32LE(k), created, value: u64(buf, v) });
    } else if (kind === REC_PROC) {
      const comm = buf.subarray(v + PROC.comm, v + PROC.comm + 16);
      const nul = comm.indexOf(0);
      out.procs.push({
        key: buf.readUInt32LE(k),
        created,
        value: {
          tx: u64(buf, v + PROC.txBytes),
          rx: u64(buf, v + PROC.rxBytes),
          txc: u64(buf, v + PROC.txCalls),
          rxc: u64(buf, v + PROC.rxCalls),
          comm: comm.toString('utf8', 0, nul < 0 ? 16 : nul),
        },
      });
    } else {
      out.cycle = u64(buf, v + END.cycle);
      out.more = u64(buf, v + END.more) !== 0n;
      out.entries = {
        peers: Number(u64(buf, v + END.peers)),
        cgroups: Number(u64(buf, v + END.cgroups)),
        drops: Number(u64(buf, v + END.drops)),
        procs: Number(u64(buf, v + END.procs)),
      };
    }
    o = v + size;
  }
  return out;
}
