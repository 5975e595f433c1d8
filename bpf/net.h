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

#endif /* TUNER_NET_H */
