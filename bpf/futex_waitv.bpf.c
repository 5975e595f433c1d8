// SPDX-License-Identifier: GPL-2.0
/*
 * futex_waitv(2) (Linux 5.16): a wait on several futex words at once, used
 * by Wine/Proton. Charged to the first word. Optional: loaded only where the
 * tracepoint exists; reuses the maps of futex.bpf.c.
 */
#include "include/vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "include/futex.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* struct futex_waitv (uapi): __u64 val; __u64 uaddr; __u32 flags; __u32 __reserved. */
#define WAITV_UADDR_OFFSET 8

SEC("tracepoint/syscalls/sys_enter_futex_waitv")
int futex_waitv_enter(struct syscall_enter_ctx *ctx)
{
	__u64 uaddr = 0;

	bpf_probe_read_user(&uaddr, sizeof(uaddr), (void *)(ctx->args[0] + WAITV_UADDR_OFFSET));
	futex_wait_enter(uaddr);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_futex_waitv")
int futex_waitv_exit(struct syscall_exit_ctx *ctx)
{
	futex_exit_any(ctx, ctx->ret);
	return 0;
}
