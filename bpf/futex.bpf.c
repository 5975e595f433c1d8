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

#ifndef TUNER_COMPAT
/*
 * Dump pass: userspace reads the pinned link of `dump` once per interval.
 * The iterator visits every BPF map of the system (only to get called: the
 * map itself is not looked at), then calls once more at the end. The first
 * call ends the cycle (bumps futex_config.cycle); every call writes a batch
 * of entries changed since they were last written and marks them once all
 * of its output fitted (seq_file runs a call again in an empty 32 KB buffer
 * when it did not); the last call writes, within a budget, what the batches
 * left, removes entries idle for IDLE_CYCLES, and writes struct futex_end.
 * A read costs what changed: an idle process or word is not written.
 * Not in the compat variant (bpf_for_each_map_elem is 5.13, bpf_loop 5.17):
 * there userspace bumps the cycle and dumps the maps through bpftool.
 */

/* Entries written per call: 16 processes (16 x 296 bytes) and 16 words (16 x 112), a fifth of the buffer. */
#define DUMP_BATCH 16
/* What the last call writes at most, under the 32 KB buffer with room for struct futex_end. */
#define DUMP_REST_BYTES (28 * 1024)
/* Entries untouched this many cycles are removed (a process that waits again starts a new entry). */
#define IDLE_CYCLES 30

/* Writable globals the verifier can not know (see sched.bpf.c): callback counters start from them. */
__u32 dump_zero = 0;
__u32 dump_rest_bytes = DUMP_REST_BYTES;
/* The cycle the open pass ended (0: no pass open), and whether its batches found nothing left. */
__u64 pass_cycle;
__u32 pass_clean;

struct futex_dump_ctx {
	struct seq_file *seq;
	__u64 live;		/* the cycle after the pass's: what `dumped` is set to */
	__u32 procs;
	__u32 addrs;
	__u32 failed;
	__u32 budget;
	__u32 tgids[DUMP_BATCH];
	struct futex_addr_key keys[DUMP_BATCH];
	__u64 left_procs;
	__u64 left_addrs;
};

static __always_inline bool pending(__u64 changed, __u64 dumped, __u64 live)
{
	return dumped != live && changed >= dumped;
}

static __always_inline int write_futex_rec(struct seq_file *seq, __u32 kind, __u32 tgid, __u64 uaddr, void *v, __u32 size)
{
	struct futex_rec r = { .kind = kind, .size = size, .tgid = tgid, .uaddr = uaddr };

	if (bpf_seq_write(seq, &r, sizeof(r)))
		return -1;
	return bpf_seq_write(seq, v, size) ? -1 : 0;
}

static long batch_proc(void *map, __u32 *key, struct futex_proc *p, struct futex_dump_ctx *d)
{
	if (!pending(p->changed, p->dumped, d->live))
		return 0;
	if (d->procs >= DUMP_BATCH)
		return 1;
	if (write_futex_rec(d->seq, FUTEX_REC_PROC, *key, 0, p, sizeof(*p))) {
		d->failed = 1;
		return 1;
	}
	d->tgids[d->procs & (DUMP_BATCH - 1)] = *key;
	d->procs++;
	return 0;
}

static long batch_addr(void *map, struct futex_addr_key *key, struct futex_addr *a, struct futex_dump_ctx *d)
{
	if (!pending(a->changed, a->dumped, d->live))
		return 0;
	if (d->addrs >= DUMP_BATCH)
		return 1;
	if (write_futex_rec(d->seq, FUTEX_REC_ADDR, key->tgid, key->uaddr, a, sizeof(*a))) {
		d->failed = 1;
		return 1;
	}
	d->keys[d->addrs & (DUMP_BATCH - 1)] = *key;
	d->addrs++;
	return 0;
}

/* Mark the i-th entries of the batch written (bpf_loop callbacks: verified once, not per iteration). */
static long mark_proc(__u32 i, struct futex_dump_ctx *d)
{
	struct futex_proc *p;
	__u32 tgid;

	if (i >= DUMP_BATCH)
		return 1;
	tgid = d->tgids[i];
	p = bpf_map_lookup_elem(&futex_procs, &tgid);
	if (p)
		p->dumped = d->live;
	return 0;
}

static long mark_addr(__u32 i, struct futex_dump_ctx *d)
{
	struct futex_addr_key key;
	struct futex_addr *a;

	if (i >= DUMP_BATCH)
		return 1;
	key = d->keys[i];
	a = bpf_map_lookup_elem(&futex_addrs, &key);
	if (a)
		a->dumped = d->live;
	return 0;
}

/* The last call writes what is left without marking it: if it runs again (buffer full), it writes the same. */
static long rest_proc(void *map, __u32 *key, struct futex_proc *p, struct futex_dump_ctx *d)
{
	if (!pending(p->changed, p->dumped, d->live))
		return 0;
	if (d->budget < sizeof(struct futex_rec) + sizeof(*p)) {
		d->failed = 1;	/* here: something did not fit (more) */
		return 1;
	}
	d->budget -= sizeof(struct futex_rec) + sizeof(*p);
	write_futex_rec(d->seq, FUTEX_REC_PROC, *key, 0, p, sizeof(*p));
	return 0;
}

static long rest_addr(void *map, struct futex_addr_key *key, struct futex_addr *a, struct futex_dump_ctx *d)
{
	if (!pending(a->changed, a->dumped, d->live))
		return 0;
	if (d->budget < sizeof(struct futex_rec) + sizeof(*a)) {
		d->failed = 1;
		return 1;
	}
	d->budget -= sizeof(struct futex_rec) + sizeof(*a);
	write_futex_rec(d->seq, FUTEX_REC_ADDR, key->tgid, key->uaddr, a, sizeof(*a));
	return 0;
}

/* Remove an entry idle for IDLE_CYCLES whose last change was written (userspace forgets it after as long). */
static long gc_proc(void *map, __u32 *key, struct futex_proc *p, struct futex_dump_ctx *d)
{
	if (p->changed + IDLE_CYCLES < d->live - 1 && p->dumped > p->changed)
		bpf_map_delete_elem(map, key);
	else
		d->left_procs++;
	return 0;
}

static long gc_addr(void *map, struct futex_addr_key *key, struct futex_addr *a, struct futex_dump_ctx *d)
{
	if (a->changed + IDLE_CYCLES < d->live - 1 && a->dumped > a->changed)
		bpf_map_delete_elem(map, key);
	else
		d->left_addrs++;
	return 0;
}

SEC("iter/bpf_map")
int dump(struct bpf_iter__bpf_map *ctx)
{
	struct futex_dump_ctx d = { .seq = ctx->meta->seq, .procs = dump_zero, .addrs = dump_zero, .budget = dump_rest_bytes };
	struct futex_config *cfg = futex_cfg();
	struct futex_end end = {};

	if (!cfg || !cfg->cycle)
		return 0;	/* not armed: nothing is counted yet */
	if (!pass_cycle) {
		pass_cycle = cfg->cycle;
		cfg->cycle = pass_cycle + 1;
	}
	d.live = pass_cycle + 1;
	if (ctx->map) {
		if (pass_clean)
			return 0;
		bpf_for_each_map_elem(&futex_procs, batch_proc, &d, 0);
		if (!d.failed && d.procs < DUMP_BATCH)
			bpf_for_each_map_elem(&futex_addrs, batch_addr, &d, 0);
		if (d.failed)
			return 0;	/* not marked: this call runs again in an empty buffer */
		bpf_loop(d.procs, mark_proc, &d, 0);
		bpf_loop(d.addrs, mark_addr, &d, 0);
		if (d.procs < DUMP_BATCH && d.addrs < DUMP_BATCH)
			pass_clean = 1;
		return 0;
	}
	if (!pass_clean) {
		bpf_for_each_map_elem(&futex_procs, rest_proc, &d, 0);
		if (!d.failed)
			bpf_for_each_map_elem(&futex_addrs, rest_addr, &d, 0);
	}
	bpf_for_each_map_elem(&futex_procs, gc_proc, &d, 0);
	bpf_for_each_map_elem(&futex_addrs, gc_addr, &d, 0);
	end.cycle = pass_cycle;
	end.more = d.failed;
	end.procs = d.left_procs;
	end.addrs = d.left_addrs;
	if (write_futex_rec(d.seq, FUTEX_REC_END, 0, 0, &end, sizeof(end)))
		return 0;	/* the buffer was full: this call runs again in an empty one */
	pass_cycle = 0;
	pass_clean = 0;
	return 0;
}
#endif
