// SPDX-License-Identifier: GPL-2.0
/* TCP retransmissions per remote endpoint and per socket cgroup (tp_btf/tcp_retransmit_skb, Linux 4.16+). */
#include "include/vmlinux.h"
#include "include/compat.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "net.h"
#define NET_MAPS_TCP
#include "net_maps.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10

static __always_inline void bump(void *map, void *key)
{
	__u64 one = 1, *v = bpf_map_lookup_elem(map, key);

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(map, key, &one, BPF_NOEXIST);
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(net_retransmit, struct sock *sk)
{
	struct net_peer peer = {};
	__u64 cg;

	peer.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	peer.dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	if (peer.family == AF_INET)
		BPF_CORE_READ_INTO(&peer.daddr, sk, __sk_common.skc_daddr);
	else if (peer.family == AF_INET6)
		BPF_CORE_READ_INTO(&peer.daddr, sk, __sk_common.skc_v6_daddr);
	bump(&net_retrans, &peer);
	cg = cgroup_id(sock_cgroup(sk));
	bump(&net_retrans_cg, &cg);
	return 0;
}
