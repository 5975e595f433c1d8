// SPDX-License-Identifier: GPL-2.0
/*
 * Futex contention through futex(2): time blocked in waits (FUTEX_WAIT,
 * WAIT_BITSET, LOCK_PI, LOCK_PI2, WAIT_REQUEUE_PI) per process and per futex
 * word, with a wait histogram, and wake calls with the tasks they woke.
 * Syscall tracepoints, not tp_btf: syscall entry/exit have no BTF
 * tracepoints of their own, and these fire only for this one syscall.
 */
#include "include/vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "include/futex.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* futex(2) commands, include/uapi/linux/futex.h */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_CMP_REQUEUE_PI 12
#define FUTEX_LOCK_PI2 13
/* FUTEX_PRIVATE_FLAG (128) and FUTEX_CLOCK_REALTIME (256) do not change what a command does. */
#define FUTEX_CMD_MASK (~(128 | 256))

static __always_inline bool is_wait(int cmd)
{
	return cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_LOCK_PI ||
	       cmd == FUTEX_LOCK_PI2 || cmd == FUTEX_WAIT_REQUEUE_PI;
}

static __always_inline bool is_wake(int cmd)
{
	return cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET || cmd == FUTEX_WAKE_OP || cmd == FUTEX_REQUEUE ||
	       cmd == FUTEX_CMP_REQUEUE || cmd == FUTEX_UNLOCK_PI || cmd == FUTEX_CMP_REQUEUE_PI;
}

SEC("tracepoint/syscalls/sys_enter_futex")
int futex_enter(struct syscall_enter_ctx *ctx)
{
	int cmd = (int)ctx->args[1] & FUTEX_CMD_MASK;

	if (is_wait(cmd))
		futex_wait_enter(ctx->args[0]);
	else if (is_wake(cmd))
		futex_wake_enter();
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_futex")
int futex_exit(struct syscall_exit_ctx *ctx)
{
	futex_exit_any(ctx, ctx->ret);
	return 0;
}

#ifdef TUNER_COMPAT
/* A thread's entry goes with it (task storage would; see futex_tasks). The exiting thread is current. */
SEC("tracepoint/sched/sched_process_exit")
int futex_task_exit(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&futex_tasks, &tid);
	return 0;
}
#endif
