/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The maps of the network hook objects that net_dump.bpf.o reads: defined
 * once here for the object that fills each and for net_dump (which loads
 * with their pins, so the definitions must match). An object defines the
 * groups it holds before including this (after net.h): NET_MAPS_TCP
 * (net_tcp.bpf.o), NET_MAPS_DROP (net_drop.bpf.o), NET_MAPS_SOCK
 * (net_sock.bpf.o and its compat variant); net_dump.bpf.o all three.
 */
#ifndef TUNER_NET_MAPS_H
#define TUNER_NET_MAPS_H

#ifdef NET_MAPS_TCP
/* Remote endpoints with retransmissions: a host talks to thousands of peers; LRU keeps the active ones. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct net_peer);
	__type(value, __u64);
} net_retrans SEC(".maps");

/* Per cgroup v2 of the socket (where the socket was created), for scoping by cgroup. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} net_retrans_cg SEC(".maps");
#endif

#ifdef NET_MAPS_DROP
/*
 * Keyed by the reason; per CPU, because drops come in storms. A hash, not an
 * array: a read moves only the reasons that occurred, not all 512 per CPU.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, NET_DROP_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} net_drops SEC(".maps");
#endif

#ifdef NET_MAPS_SOCK
/* Processes doing socket I/O; NO_PREALLOC: memory for the ones seen. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct net_proc);
} net_procs SEC(".maps");
#endif

#endif /* TUNER_NET_MAPS_H */
