/** Decoding net_dump's iterator records (bpf/net.h), byte by byte as the C layout puts them. */
import { describe, expect, it } from 'vitest';
import { decodeNetDump, NET_LAYOUT } from '../../src/signals/net/dump.js';
import { formatPeer } from '../../src/signals/net/bpf.js';

function rec(kind: number, created: bigint, key: Buffer, body: Buffer, size = body.length): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32LE(kind, 0);
  h.writeUInt32LE(size, 4);
  h.writeBigUInt64LE(created, 8);
  key.copy(h, 16);
  return Buffer.concat([h, body]);
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};

function peer(family: number, port: number, addr: number[]): Buffer {
  const m = NET_LAYOUT.net_peer.members;
  const b = Buffer.alloc(NET_LAYOUT.net_peer.size);
  b.writeUInt16LE(family, m.family);
  b.writeUInt16BE(port, m.dport); // network byte order, as the kernel stores it
  Buffer.from(addr).copy(b, m.daddr);
  return b;
}

function proc(tx: bigint, rx: bigint, txc: bigint, rxc: bigint, comm: string): Buffer {
  const m = NET_LAYOUT.net_proc.members;
  const b = Buffer.alloc(NET_LAYOUT.net_proc.size);
  b.writeBigUInt64LE(tx, m.tx_bytes);
  b.writeBigUInt64LE(rx, m.rx_bytes);
  b.writeBigUInt64LE(txc, m.tx_calls);
  b.writeBigUInt64LE(rxc, m.rx_calls);
  b.write(comm, m.comm);
  return b;
}

function end(cycle: bigint, more: bigint, counts: bigint[]): Buffer {
  return Buffer.concat([u64(cycle), u64(more), ...counts.map(u64)]);
}

describe('decodeNetDump', () => {
  it('decodes retransmissions per peer and per cgroup, drops, processes and the end record', () => {
    const d = decodeNetDump(
      Buffer.concat([
        rec(1, 3n, peer(2, 443, [10, 1, 2, 3]), u64(17n)),
        rec(1, 4n, peer(10, 8080, [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1]), u64(2n)),
        rec(2, 3n, u64(0x1234_5678_9abcn), u64(19n)),
        rec(3, 5n, u32(2), u64(250n)),
        rec(4, 6n, u32(999), proc(4194504n, 4194304n, 203n, 64n, 'node')),
        rec(5, 0n, Buffer.alloc(0), end(9n, 0n, [2n, 1n, 1n, 40n])),
      ]),
    );
    expect(d.peers.map((p) => [formatPeer(p.key), p.created, p.value])).toEqual([
      ['10.1.2.3:443', 3n, 17n],
      ['[2001:db8::1]:8080', 4n, 2n],
    ]);
    expect(d.cgroups).toEqual([{ key: 0x1234_5678_9abcn, created: 3n, value: 19n }]);
    expect(d.drops).toEqual([{ key: 2, created: 5n, value: 250n }]);
    expect(d.procs).toEqual([{ key: 999, created: 6n, value: { tx: 4194504n, rx: 4194304n, txc: 203n, rxc: 64n, comm: 'node' } }]);
    expect(d).toMatchObject({ cycle: 9n, more: false, entries: { peers: 2, cgroups: 1, drops: 1, procs: 40 } });
  });

  it.each([
    ['a process record of another size', rec(4, 1n, u32(1), Buffer.alloc(56)), /record kind 4 has 56 bytes, this build reads 48/],
    ['a count of another size', rec(3, 1n, u32(1), Buffer.alloc(4)), /record kind 3 has 4 bytes, this build reads 8/],
    ['an unknown kind', rec(7, 1n, u32(1), Buffer.alloc(8)), /unknown record kind 7/],
    ['a record cut short', rec(5, 0n, Buffer.alloc(0), end(1n, 0n, [0n, 0n, 0n, 0n])).subarray(0, 60), /runs past the end/],
    ['stray bytes', Buffer.alloc(39), /39 stray bytes/],
  ])('refuses %s', (_, buf, error) => {
    expect(() => decodeNetDump(buf)).toThrow(error);
  });
});
