// SPDX-License-Identifier: GPL-2.0
/*
 * Packet drops by reason (tp_btf/kfree_skb). The reason is the tracepoint's
 * third argument from v5.17 ("net: skb: introduce kfree_skb_reason()", which
 * also brought enum skb_drop_reason); before, every drop counts under
 * NET_DROP_NO_REASON.
 */
#include "include/vmlinux.h"
#include "include/compat.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "net.h"
#define NET_MAPS_DROP
#include "net_maps.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/kfree_skb")
int net_drop(__u64 *ctx)
{
	__u32 r = NET_DROP_NO_REASON;
	__u64 *v;

	/* Not read on older kernels: their verifier rejects the access (no 3rd argument). */
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED))
		r = (int)ctx[2];
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
