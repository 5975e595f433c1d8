// SPDX-License-Identifier: GPL-2.0
/* Packet drops by reason (tp_btf/kfree_skb with its drop reason, Linux 5.17+). */
#include "include/vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "net.h"

char LICENSE[] SEC("license") = "GPL";

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

SEC("tp_btf/kfree_skb")
int BPF_PROG(net_drop, struct sk_buff *skb, void *location, int reason)
{
	__u32 r = reason;
	__u64 *v;

	if (r >= NET_DROP_REASONS)
		r = NET_DROP_REASONS - 1;
	v = bpf_map_lookup_elem(&net_drops, &r);
	if (v) {
		(*v)++;
	} else {
		__u64 one = 1;

		bpf_map_update_elem(&net_drops, &r, &one, BPF_NOEXIST);
	}
	return 0;
}
