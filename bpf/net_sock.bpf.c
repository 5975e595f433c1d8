// SPDX-License-Identifier: GPL-2.0
/* Bytes sent and received through sockets, per process (sock_send_length / sock_recv_length, Linux 6.4+). */
#include "include/vmlinux.h"
#include "include/compat.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "include/scope.bpf.h"
#include "net.h"

char LICENSE[] SEC("license") = "GPL";

/* Processes doing socket I/O; NO_PREALLOC: memory for the ones seen. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct net_proc);
} net_procs SEC(".maps");

static __always_inline void account(int ret, bool tx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct net_proc *p;
	__u32 tgid;

	if (ret <= 0 || !task_in_scope(t))
		return;
	tgid = t->tgid;
	p = bpf_map_lookup_elem(&net_procs, &tgid);
	if (!p) {
		struct net_proc init = {};

		bpf_probe_read_kernel_str(init.comm, sizeof(init.comm), t->group_leader->comm);
		bpf_map_update_elem(&net_procs, &tgid, &init, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&net_procs, &tgid);
		if (!p)
			return;
	}
	if (tx) {
		__sync_fetch_and_add(&p->tx_bytes, ret);
		__sync_fetch_and_add(&p->tx_calls, 1);
	} else {
		__sync_fetch_and_add(&p->rx_bytes, ret);
		__sync_fetch_and_add(&p->rx_calls, 1);
	}
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(net_send, struct sock *sk, int ret, int flags)
{
	account(ret, true);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(net_recv, struct sock *sk, int ret, int flags)
{
	account(ret, false);
	return 0;
}
