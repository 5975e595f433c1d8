// SPDX-License-Identifier: GPL-2.0
/*
 * Bytes sent and received through sockets, per process.
 *
 * Default: tp_btf/sock_send_length and sock_recv_length (Linux 6.4+), which
 * fire in sock_sendmsg_nosec / sock_recvmsg_nosec with the protocol's return
 * value: every send and receive of every socket family crosses them.
 *
 * Compat (net_sock_compat.bpf.o, TUNER_COMPAT): before 6.4 those points are
 * inline functions of net/socket.c, and so are sock_sendmsg / sock_recvmsg
 * for their callers in that file (write(2), read(2), sendto(2), recvmsg(2)
 * ...): an fexit there misses them. What sock_*msg_nosec call is the
 * family's sendmsg / recvmsg through the socket's ops, a call into another
 * file that cannot be inlined; fexit there sees the same return value the
 * tracepoints report, once per call, from every path (system calls, io_uring,
 * in-kernel senders). Hooked: the inet, inet6 and unix families (TCP, UDP,
 * raw, ping, unix stream and datagram: unix seqpacket goes through the
 * datagram functions). Other families (netlink, packet, vsock ...) are not
 * counted there.
 */
#include "include/vmlinux.h"
#include "include/compat.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "include/scope.bpf.h"
#include "net.h"
#define NET_MAPS_SOCK
#include "net_maps.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline void account(int ret, bool tx)
{
	struct net_proc *p;
	__u32 tgid;

	if (ret <= 0)
		return;
#ifdef TUNER_COMPAT
	/* No trusted current task before 5.11: the scope test and the name go through probe reads. */
	if (!current_in_scope())
		return;
	tgid = bpf_get_current_pid_tgid() >> 32;
#else
	struct task_struct *t = bpf_get_current_task_btf();

	if (!task_in_scope(t))
		return;
	tgid = t->tgid;
#endif
	p = bpf_map_lookup_elem(&net_procs, &tgid);
	if (!p) {
		struct net_proc init = {};
#ifdef TUNER_COMPAT
		struct task_struct *leader = BPF_CORE_READ(current_task(), group_leader);

		bpf_probe_read_kernel_str(init.comm, sizeof(init.comm), &leader->comm);
#else
		bpf_probe_read_kernel_str(init.comm, sizeof(init.comm), t->group_leader->comm);
#endif
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

#ifdef TUNER_COMPAT
/* The family sendmsg / recvmsg functions sock_sendmsg_nosec / sock_recvmsg_nosec call (signatures of 4.19-6.x). */
#define SEND_HOOK(fn)                                                                                 \
	SEC("fexit/" #fn)                                                                             \
	int BPF_PROG(net_send_##fn, void *sock, void *msg, __u64 size, int ret)\
	{                                                                                             \
		account(ret, true);                                                                   \
		return 0;                                                                             \
	}
#define RECV_HOOK(fn)                                                                                            \
	SEC("fexit/" #fn)                                                                                        \
	int BPF_PROG(net_recv_##fn, void *sock, void *msg, __u64 size, int flags, int ret)\
	{                                                                                                        \
		account(ret, false);                                                                             \
		return 0;                                                                                        \
	}

SEND_HOOK(inet_sendmsg)
SEND_HOOK(inet6_sendmsg)
SEND_HOOK(unix_stream_sendmsg)
SEND_HOOK(unix_dgram_sendmsg)
RECV_HOOK(inet_recvmsg)
RECV_HOOK(inet6_recvmsg)
RECV_HOOK(unix_stream_recvmsg)
RECV_HOOK(unix_dgram_recvmsg)
#else
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
#endif
