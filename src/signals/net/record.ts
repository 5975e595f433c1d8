/** The network signal's per-interval delta and the record `watch net --json` prints. */
export interface NetDelta {
  intervalNs: number;
  /** Which hooks are loaded on this kernel. */
  hooks: Record<string, boolean>;
  retrans: Array<{ peer: string; count: number }>;
  retransByCgroup: Array<{ cgroupId: string; count: number }>;
  drops: Array<{ reason: string; code: number; count: number }>;
  procs: Array<{ pid: number; comm: string; txBytes: number; rxBytes: number; txCalls: number; rxCalls: number }>;
}

export interface NetRecord {
  signal: 'net';
  ts: string;
  interval_ms: number;
  hooks: Record<string, boolean>;
  /** TCP retransmissions (host-wide), and the remote endpoints that needed them. */
  retransmits: number;
  retrans_peers: Array<{ peer: string; count: number }>;
  /** Packets dropped by the kernel (host-wide), by reason. */
  drops: number;
  drop_reasons: Array<{ reason: string; count: number }>;
  /** Socket traffic per process in scope, bytes per second. */
  procs: Array<{
    pid: number;
    comm: string;
    tx_bytes: number;
    rx_bytes: number;
    tx_bps: number;
    rx_bps: number;
    tx_calls: number;
    rx_calls: number;
  }>;
}

export function buildNetRecord(d: NetDelta, opts: { now: Date; top: number }): NetRecord {
  const secs = d.intervalNs / 1e9;
  const rate = (b: number): number => (secs > 0 ? Math.round(b / secs) : 0);
  return {
    signal: 'net',
    ts: opts.now.toISOString(),
    interval_ms: Math.round(d.intervalNs / 1e5) / 10,
    hooks: d.hooks,
    retransmits: d.retrans.reduce((s, r) => s + r.count, 0),
    retrans_peers: [...d.retrans].sort((a, b) => b.count - a.count).slice(0, opts.top),
    drops: d.drops.reduce((s, r) => s + r.count, 0),
    drop_reasons: [...d.drops].sort((a, b) => b.count - a.count).map(({ reason, count }) => ({ reason, count })),
    procs: [...d.procs]
      .sort((a, b) => b.txBytes + b.rxBytes - (a.txBytes + a.rxBytes))
      .slice(0, opts.top)
      .map((p) => ({
        pid: p.pid,
        comm: p.comm,
        tx_bytes: p.txBytes,
        rx_bytes: p.rxBytes,
        tx_bps: rate(p.txBytes),
        rx_bps: rate(p.rxBytes),
        tx_calls: p.txCalls,
        rx_calls: p.rxCalls,
      })),
  };
}
