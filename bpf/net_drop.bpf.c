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
