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
#include <bpf/bpf_tracing.h>
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

#ifndef TUNER_COMPAT
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

#else
/*
 * Before 5.15 a classic tracepoint program is attached through a perf event
 * that has no BPF link (5.15: "bpf: Add bpf_link support for perf events"),
 * so bpftool cannot pin it, and tuner keeps programs attached by their pinned
 * links. The compat variant hooks the raw sys_enter/sys_exit tracepoints
 * (tp_btf, whose links pin) and picks the futex calls by number: a program
 * run at every system call, and it covers futex_waitv(2) and futex_wait(2)
 * and futex_wake(2) too (futex_wait.bpf.c and futex_waitv.bpf.c are not
 * loaded with it). x86-64 only: the syscall numbers and argument registers.
 */
struct pt_regs;

#if defined(__TARGET_ARCH_x86)
#define NR_FUTEX 202		/* arch/x86/entry/syscalls/syscall_64.tbl */
#define NR_FUTEX_WAITV 449
#define NR_FUTEX_WAKE 454
#define NR_FUTEX_WAIT 455

/* The syscall's registers (x86-64 ABI: arguments in di, si, ...; the number in orig_ax). */
struct pt_regs___x86 {
	unsigned long di;
	unsigned long si;
	unsigned long orig_ax;
} __attribute__((preserve_access_index));

/* struct futex_waitv (uapi): __u64 val; __u64 uaddr; __u32 flags; __u32 __reserved. Charged to the first word. */
#define WAITV_UADDR_OFFSET 8

SEC("tp_btf/sys_enter")
int BPF_PROG(futex_enter, struct pt_regs *regs, long id)
{
	struct pt_regs___x86 *r = (void *)regs;
	__u64 uaddr = 0;
	int cmd;

	switch (id) {
	case NR_FUTEX:
		cmd = (int)r->si & FUTEX_CMD_MASK;
		if (is_wait(cmd))
			futex_wait_enter(r->di);
		else if (is_wake(cmd))
			futex_wake_enter();
		break;
	case NR_FUTEX_WAIT:
		futex_wait_enter(r->di);
		break;
	case NR_FUTEX_WAITV:
		bpf_probe_read_user(&uaddr, sizeof(uaddr), (void *)(r->di + WAITV_UADDR_OFFSET));
		futex_wait_enter(uaddr);
		break;
	case NR_FUTEX_WAKE:
		futex_wake_enter();
		break;
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(futex_exit, struct pt_regs *regs, long ret)
{
	long id = ((struct pt_regs___x86 *)regs)->orig_ax;

	if (id == NR_FUTEX || id == NR_FUTEX_WAIT || id == NR_FUTEX_WAITV || id == NR_FUTEX_WAKE)
		futex_exit_any(ctx, ret);
	return 0;
}
#else
#error "futex compat variant: syscall numbers and registers of this architecture are not written yet"
#endif

/* A thread's entry goes with it (task storage would; see futex_tasks). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(futex_task_exit, struct task_struct *t)
{
	__u32 tid = t->pid;

	bpf_map_delete_elem(&futex_tasks, &tid);
	return 0;
}
#endif
