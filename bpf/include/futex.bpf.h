/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Maps and hooks shared by the futex objects: bpf/futex.bpf.c (futex(2)) and
 * the optional bpf/futex_waitv.bpf.c and bpf/futex_wait.bpf.c, whose syscalls
 * not every kernel has. The optional objects reuse the maps of futex.bpf.c
 * (userspace passes them at load), so all three feed the same entries.
 */
#ifndef TUNER_FUTEX_BPF_H
#define TUNER_FUTEX_BPF_H

#include "vmlinux.h"
#include "compat.h"
#include "scope.bpf.h"
#include "events.bpf.h"
#include "variant.bpf.h"
#include "../futex.h"

#define ETIMEDOUT 110

/* Syscall tracepoint contexts: fixed by the tracepoint format (not relocated). */
struct syscall_enter_ctx {
	__u64 common;
	__s64 nr;
	__u64 args[6];
};

struct syscall_exit_ctx {
	__u64 common;
	__s64 nr;
	__s64 ret;
};

struct futex_pending {
	__u64 start_ns;
	__u64 uaddr;
	__u32 waiting;		/* 1 between a wait's enter and exit */
	__u32 wake;		/* 1 between a wake's enter and exit */
};

#ifdef TUNER_COMPAT
/*
 * No task local storage for tracing programs before 5.11: a hash by thread
 * id, its entry deleted when the thread exits (futex.bpf.c's exit hook).
 * Threads that used futexes while observed; pid_max's default bounds them.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct futex_pending);
} futex_tasks SEC(".maps");

/* The current thread's pending call, created zeroed if asked. */
static __always_inline struct futex_pending *futex_task(bool create)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct futex_pending *p = bpf_map_lookup_elem(&futex_tasks, &tid), init = {};

	if (p || !create)
		return p;
	bpf_map_update_elem(&futex_tasks, &tid, &init, BPF_NOEXIST);
	return bpf_map_lookup_elem(&futex_tasks, &tid);
}

/* The current task (untrusted before 5.11: fields through BPF_CORE_READ), its process id, whether it is observed. */
#define futex_current() current_task()
#define futex_tgid(t) ((void)(t), (__u32)(bpf_get_current_pid_tgid() >> 32))
#define futex_in_scope(t) ((void)(t), current_in_scope())
#else
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* required for local storage */
	__type(key, int);
	__type(value, struct futex_pending);
} futex_tasks SEC(".maps");

static __always_inline struct futex_pending *futex_task(bool create)
{
	return bpf_task_storage_get(&futex_tasks, bpf_get_current_task_btf(), 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

#define futex_current() bpf_get_current_task_btf()
#define futex_tgid(t) ((t)->tgid)
#define futex_in_scope(t) task_in_scope(t)
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct futex_config);
} futex_config SEC(".maps");

/* Processes that wait on futexes; NO_PREALLOC: memory for the ones seen, not the maximum. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct futex_proc);
} futex_procs SEC(".maps");

/*
 * Futex words: a busy process has thousands. LRU keeps the hot ones when
 * there are more than 16384; an evicted word re-enters with a new `created`,
 * so userspace counts it from zero instead of producing a negative delta.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct futex_addr_key);
	__type(value, struct futex_addr);
} futex_addrs SEC(".maps");

/* Template for new entries (map updates copy from memory; keeps the stack small). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct futex_proc);
} futex_scratch SEC(".maps");

static __always_inline struct futex_config *futex_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&futex_config, &zero);
}

/* One waiter less on the word (tgid, uaddr), if the word is still in the map. */
static __always_inline struct futex_addr *futex_unwait(__u32 tgid, __u64 uaddr)
{
	struct futex_addr_key key = {};
	struct futex_addr *a;

	key.tgid = tgid;
	key.uaddr = uaddr;
	a = bpf_map_lookup_elem(&futex_addrs, &key);
	if (a)
		__sync_fetch_and_add(&a->waiting, -1);
	return a;
}

/*
 * A wait starts on uaddr: remember it on the thread, count a waiter on the word.
 * Nothing is counted before userspace writes the config (cycle 0 until then):
 * bpftool attaches the enter program before the exit one, and every wait that
 * began and ended in between would stay counted forever (seen: 933 "waiters
 * at once" for 4 threads when the load was slow under contention).
 */
static __always_inline void futex_wait_enter(__u64 uaddr)
{
	struct task_struct *t = futex_current();
	struct futex_config *cfg = futex_cfg();
	struct futex_addr_key key = {};
	struct futex_pending *p;
	struct futex_addr *a;
	__s64 now_waiting;
	__u32 i;

	if (!cfg || !cfg->cycle || !futex_in_scope(t))
		return;
	p = futex_task(true);
	if (!p)
		return;
	/* The exit of this thread's previous wait was not seen (a program run the kernel skipped): undo its count. */
	if (p->waiting)
		futex_unwait(futex_tgid(t), p->uaddr);
	p->start_ns = bpf_ktime_get_ns();
	p->uaddr = uaddr;
	p->waiting = 1;
	key.tgid = futex_tgid(t);
	key.uaddr = uaddr;
	a = bpf_map_lookup_elem(&futex_addrs, &key);
	if (!a) {
		struct futex_addr init = { .created = cfg->cycle, .changed = cfg->cycle };

		bpf_map_update_elem(&futex_addrs, &key, &init, BPF_NOEXIST);
		a = bpf_map_lookup_elem(&futex_addrs, &key);
		if (!a)
			return;
	}
#ifdef TUNER_COMPAT
	/* No atomic fetch before 5.12: the count read after the add may include a concurrent waiter's add. */
	__sync_fetch_and_add(&a->waiting, 1);
	now_waiting = a->waiting;
#else
	now_waiting = __sync_fetch_and_add(&a->waiting, 1) + 1;
#endif
	a->changed = cfg->cycle;
	i = cfg->cycle & 1;
	if (a->max_cycle[i] != cfg->cycle) {
		a->max_cycle[i] = cfg->cycle;
		a->max_waiters[i] = 0;
	}
	if (now_waiting > (__s64)a->max_waiters[i])
		a->max_waiters[i] = now_waiting;
}

static __always_inline struct futex_proc *futex_proc_of(struct task_struct *t, struct futex_config *cfg)
{
	__u32 tgid = futex_tgid(t), zero = 0;
	struct futex_proc *fp = bpf_map_lookup_elem(&futex_procs, &tgid), *tmpl;

	if (fp)
		return fp;
	tmpl = bpf_map_lookup_elem(&futex_scratch, &zero);
	if (!tmpl)
		return NULL;
	__builtin_memset(tmpl, 0, sizeof(*tmpl));
	tmpl->created = cfg->cycle;
	tmpl->changed = cfg->cycle;
	/* Name and cgroup are read once, when the process first waits (not on every wait). */
	bpf_probe_read_kernel_str(tmpl->comm, sizeof(tmpl->comm), BPF_CORE_READ(t, group_leader)->comm);
	tmpl->cgroup_id = cgroup_id(task_cpu_cgroup(t));
	bpf_map_update_elem(&futex_procs, &tgid, tmpl, BPF_NOEXIST);
	return bpf_map_lookup_elem(&futex_procs, &tgid);
}

/* A wait returned with ret: account its duration to the process and the word. */
static __always_inline void futex_wait_done(void *ctx, struct task_struct *t, struct futex_pending *p, struct futex_config *cfg, __s64 ret)
{
	struct futex_proc *fp;
	struct futex_addr *a;
	__u64 d;
	__u32 slot;

	p->waiting = 0;
	d = bpf_ktime_get_ns() - p->start_ns;
	a = futex_unwait(futex_tgid(t), p->uaddr);
	if (a) {
		__sync_fetch_and_add(&a->waits, 1);
		__sync_fetch_and_add(&a->wait_ns, d);
		a->changed = cfg->cycle;
	}
	fp = futex_proc_of(t, cfg);
	if (!fp)
		return;
	__sync_fetch_and_add(&fp->waits, 1);
	__sync_fetch_and_add(&fp->wait_ns, d);
	fp->changed = cfg->cycle;
	if (ret == -ETIMEDOUT)
		__sync_fetch_and_add(&fp->timeouts, 1);
	__sync_fetch_and_add(&fp->hist[hist_slot(d, FUTEX_SLOTS)], 1);
	slot = cfg->cycle & 1;
	if (fp->max_cycle[slot] != cfg->cycle) {
		fp->max_cycle[slot] = cfg->cycle;
		fp->max_wait_ns[slot] = 0;
	}
	if (d > fp->max_wait_ns[slot])
		fp->max_wait_ns[slot] = d;
	if (cfg->outlier_ns && d >= cfg->outlier_ns) {
		struct tuner_event *e = event_start(EV_FUTEX_WAIT, t);

		if (e) {
			e->value_ns = d;
			e->arg0 = p->uaddr;
			e->arg1 = ret;
			event_send(ctx, e);
		}
	}
}

static __always_inline void futex_wake_enter(void)
{
	struct task_struct *t = futex_current();
	struct futex_config *cfg = futex_cfg();
	struct futex_pending *p;

	if (!cfg || !cfg->cycle || !futex_in_scope(t))
		return;	/* not armed: nothing is counted yet (as for a wait) */
	p = futex_task(true);
	if (p)
		p->wake = 1;
}

static __always_inline void futex_wake_done(struct task_struct *t, struct futex_pending *p, struct futex_config *cfg, __s64 ret)
{
	struct futex_proc *fp;

	p->wake = 0;
	fp = futex_proc_of(t, cfg);
	if (!fp)
		return;
	__sync_fetch_and_add(&fp->wakes, 1);
	fp->changed = cfg->cycle;
	if (ret > 0)
		__sync_fetch_and_add(&fp->woken, ret);
}

/* Any futex syscall returned: finish the wait or wake it started (one task-storage lookup). */
static __always_inline void futex_exit_any(void *ctx, __s64 ret)
{
	struct task_struct *t = futex_current();
	struct futex_pending *p = futex_task(false);
	struct futex_config *cfg;

	if (!p || !(p->waiting | p->wake))
		return;
	cfg = futex_cfg();
	if (!cfg)
		return;
	if (p->waiting) {
		futex_wait_done(ctx, t, p, cfg, ret);
	} else {
		futex_wake_done(t, p, cfg, ret);
	}
}

#endif /* TUNER_FUTEX_BPF_H */
