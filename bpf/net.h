/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Structs shared by the network objects and src/signals/net.ts. Each hook is
 * its own object (net_tcp, net_drop, net_sock), because each tracepoint
 * exists from a different kernel on: a missing one is a warning, not a
 * failure of the others.
 */
#ifndef TUNER_NET_H
#define TUNER_NET_H

/* Drop reasons are an enum of ~100 values today (enum skb_drop_reason); 512 leaves room. */
#define NET_DROP_REASONS 512
/* The key of drops on kernels whose kfree_skb tracepoint gives no reason (outside the enum's range). */
#define NET_DROP_NO_REASON (NET_DROP_REASONS - 1)

/* A remote TCP endpoint that needed retransmissions. */
struct net_peer {
	__u16 family;		/* AF_INET or AF_INET6 */
	__u16 dport;		/* network byte order */
	__u32 pad;
	__u8 daddr[16];		/* IPv4 in the first 4 bytes */
};

/* Per process: bytes through sockets (sock_send_length / sock_recv_length). */
struct net_proc {
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u64 tx_calls;
	__u64 rx_calls;
	char comm[16];
};

/*
 * The output of net_dump.bpf.o's `dump` iterator: records, each a struct
 * net_rec and then `size` bytes: the entry's value as stored in its map (a
 * __u64 count for PEER, CGROUP and DROP, the sum over CPUs for DROP; a
 * struct net_proc for PROC), or, last, a struct net_end. Only entries
 * changed since they were last written are written.
 */
#define NET_REC_PEER 1		/* key: struct net_peer (net_retrans) */
#define NET_REC_CGROUP 2	/* key: __u64 cgroup id (net_retrans_cg) */
#define NET_REC_DROP 3		/* key: __u32 drop reason (net_drops) */
#define NET_REC_PROC 4		/* key: __u32 tgid (net_procs) */
#define NET_REC_END 5

struct net_rec {
	__u32 kind;
	__u32 size;
	__u64 created;		/* the cycle the entry was first written in: a new one counts from zero */
	__u8 key[24];		/* the map's key, zero-padded */
};

struct net_end {
	__u64 cycle;		/* the cycle this pass ended */
	__u64 more;		/* 1: changed entries may not all have fitted; read the iterator again */
	__u64 peers;		/* entries left in net_retrans, net_retrans_cg, net_drops, net_procs (all 0: it did not collect) */
	__u64 cgroups;
	__u64 drops;
	__u64 procs;
};

#endif /* TUNER_NET_H */
