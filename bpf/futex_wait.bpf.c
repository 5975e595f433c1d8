// SPDX-License-Identifier: GPL-2.0
/*
 * futex_wait(2) and futex_wake(2) (Linux 6.7, the futex2 calls). Optional:
 * loaded only where the tracepoints exist; reuses the maps of futex.bpf.c.
 */
#include "include/vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "include/futex.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_futex_wait")
int futex2_wait_enter(struct syscall_enter_ctx *ctx)
{
	futex_wait_enter(ctx->args[0]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_futex_wait")
int futex2_wait_exit(struct syscall_exit_ctx *ctx)
{
	futex_exit_any(ctx, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_futex_wake")
int futex2_wake_enter(struct syscall_enter_ctx *ctx)
{
	futex_wake_enter();
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_futex_wake")
int futex2_wake_exit(struct syscall_exit_ctx *ctx)
{
	futex_exit_any(ctx, ctx->ret);
	return 0;
}
