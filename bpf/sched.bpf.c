// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler signals: run-queue wait, on-CPU time and context switches per
 * process and per CPU-controller cgroup, run-queue length per CPU.
 *
 * Design (cheap per event, exact totals):
 *  - The kernel already accounts, per task, on-CPU time (se.sum_exec_runtime),
 *    run-queue wait (sched_info.run_delay, CONFIG_SCHED_INFO) and switches
 *    (nvcsw/nivcsw), and per CPU the switches (rq->nr_switches). The totals
 *    are those counters, read by a task iterator (`flush`) that userspace
 *    runs once per interval, and at thread exit.
 *  - Per switch, only what the kernel does not keep: the histogram of waits.
 *    When a task gets the CPU, the wait that ends is rq->clock -
 *    sched_info.last_queued, the amount the kernel is about to add to its
 *    run_delay (split waits of a migrated task are summed, as the kernel
 *    does, by taking the growth of run_delay). No wakeup hooks, no timestamps.
 *  - What costs here is memory the switch has not touched yet: on this kind
 *    of host (page-table isolation, no PCID) every kernel entry empties the
 *    TLB, and each further page a program touches costs ~40 ns, more than
 *    its instructions. So a switch touches one page of ours: the entry of
 *    the task that gets the CPU, in a table indexed by thread id (an array
 *    lookup, inlined; no helper call). The task that leaves is touched only
 *    when it was preempted (its next wait is then a preemption wait). The
 *    CPU's share of waits (run-queue length) is kept in that same entry and
 *    moved to the CPU's counters when the task changes CPU or at a flush.
 *    A task whose table slot is held by another live task (tids equal
 *    modulo the table size) keeps its state in task local storage instead:
 *    same figures, the cost of a helper call.
 *  - Reading: a second task iterator (`dump`) writes the process and cgroup
 *    entries that changed since the last read, and the CPU entries, in
 *    binary, so a read moves what changed instead of bpftool's JSON of
 *    every entry (about 4 KB per process), and needs no bpftool. A process
 *    record holds only its histograms' non-zero slots (sched.h).
 */
#include "include/vmlinux.h"
#include "include/compat.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "include/scope.bpf.h"
#include "include/events.bpf.h"
#include "include/variant.bpf.h"
#include "sched.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_EXITING 0x00000004	/* include/linux/sched.h: the task is in do_exit() */
/* 6.2+; without them a slot held by a task that is gone stays held (its next owner uses task storage). */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;
/* 6.2+: a pointer the verifier walks without checking trust (see task_rq). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* What a switch updates for an observed task (in its table slot, or in its task storage). */
struct sched_sw {
	__u64 run_delay_seen;	/* run_delay as of the end of the task's last wait */
	__u64 max_wait_ns;	/* since the last flush; the flush swaps it to 0 */
	__u64 outlier_ns;	/* a copy of the config, so the switch reads nothing else */
	__u64 waits;
	__u32 tracked;		/* in scope: the histogram is kept (written by flush, fork, exit) */
	__u32 preempted;	/* left the CPU still runnable: its next wait is a preemption wait */
	__u32 hist[2][SCHED_SLOTS];	/* [0] after a wakeup, [1] after a preemption */
};

/*
 * A table slot: owned by one live task (pid and start time: tids are reused)
 * or free (start 0). Any task that gets the CPU claims its free slot, so its
 * waits count for its CPU even out of scope.
 */
struct sched_tid {
	__u64 start;		/* the owner's start_time; 0: free */
	__u32 pid;
	__u32 cpu;		/* the CPU of cpu_wait_ns not yet folded */
	__u64 cpu_wait_ns;	/* waits that ended on `cpu`, cumulative; written by the owner's switches only */
	__u64 cpu_folded;	/* how much of it is in sched_cpus; moved forward by compare-and-swap */
	struct sched_sw sw;
};

/* Power of two: slot = tid & (SCHED_TID_SLOTS - 1). 32768 slots of 400 bytes: 12.5 MB, the default pid_max. */
#define SCHED_TID_SLOTS 32768

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SCHED_TID_SLOTS);
	__type(key, __u32);
	__type(value, struct sched_tid);
} sched_tids SEC(".maps");

/* Per observed task: its flush baselines, and its switch state when it has no table slot. */
struct sched_task {
#ifdef TUNER_COMPAT
	__u64 start;			/* the owner's start_time: an entry of a task that is gone is stale */
#endif
	__u32 in_slot;			/* the switch state is in the task's table slot, not in `sw` */
	__u32 flushing;			/* a flush is in progress (iterator vs exit hook) */
	__u32 f_hist[2][SCHED_SLOTS];
	__u64 f_waits;
	__u64 f_wait_seen;		/* run_delay_seen at the last flush */
	__u64 f_oncpu;
	__u64 f_run_delay;
	__u64 f_pcount;
	__u64 f_nvcsw;
	__u64 f_nivcsw;
	struct sched_sw sw;
};

#ifdef TUNER_COMPAT
/*
 * No task local storage for tracing programs before 5.11: a hash by thread
 * id, whose entry belongs to the task with its start time (tids are reused),
 * deleted at the task's exit. Observed tasks only; pid_max's default bounds
 * it. NO_PREALLOC: memory for the tasks observed; entries are made by the
 * iterator and at fork, never under the run-queue lock.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct sched_task);
} sched_tasks SEC(".maps");

/* The zeroed entry a new one is copied from (too large for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sched_task);
} sched_task_new SEC(".maps");

/* t's state, created zeroed if asked; NULL when t has none (a stale entry of an earlier task with its tid is not its). */
static __always_inline struct sched_task *task_get(struct task_struct *t, bool create)
{
	__u32 tid = t->pid, zero = 0;
	__u64 start = t->start_time;
	struct sched_task *s = bpf_map_lookup_elem(&sched_tasks, &tid);

	if (s && s->start == start)
		return s;
	if (!create)
		return NULL;
	s = bpf_map_lookup_elem(&sched_task_new, &zero);
	if (!s)
		return NULL;
	__builtin_memset(s, 0, sizeof(*s));
	s->start = start;
	bpf_map_update_elem(&sched_tasks, &tid, s, BPF_ANY);
	s = bpf_map_lookup_elem(&sched_tasks, &tid);
	return s && s->start == start ? s : NULL;
}

static __always_inline void task_put(struct task_struct *t)
{
	__u32 tid = t->pid;
	struct sched_task *s = bpf_map_lookup_elem(&sched_tasks, &tid);

	if (s && s->start == t->start_time)
		bpf_map_delete_elem(&sched_tasks, &tid);
}
#else
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* required for local storage */
	__type(key, int);
	__type(value, struct sched_task);
} sched_tasks SEC(".maps");

static __always_inline struct sched_task *task_get(struct task_struct *t, bool create)
{
	return bpf_task_storage_get(&sched_tasks, t, 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline void task_put(struct task_struct *t)
{
	bpf_task_storage_delete(&sched_tasks, t);
}
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sched_config);
} sched_config SEC(".maps");

/*
 * One entry per observed process. 16384 covers the default pid_max of small
 * hosts and the busy part of large ones; NO_PREALLOC so an idle watch costs
 * memory for the processes it sees, not for the maximum.
 */
#ifdef TUNER_COMPAT
/*
 * Without bpf_for_each_map_elem (5.13) nothing deletes idle entries: LRU maps
 * evict the least recently used when full (preallocated: about 9 MB and
 * 2 MB), and an exited process's entry is deleted once the dump wrote it.
 */
#define SCHED_MAP_TYPE BPF_MAP_TYPE_LRU_HASH
#define SCHED_MAP_FLAGS 0
#else
#define SCHED_MAP_TYPE BPF_MAP_TYPE_HASH
#define SCHED_MAP_FLAGS BPF_F_NO_PREALLOC
#endif

struct {
	__uint(type, SCHED_MAP_TYPE);
	__uint(max_entries, 16384);
	__uint(map_flags, SCHED_MAP_FLAGS);
	__type(key, __u32);
	__type(value, struct sched_proc);
} sched_procs SEC(".maps");

/* One entry per CPU-controller cgroup with observed tasks; hosts rarely have more than a few thousand. */
struct {
	__uint(type, SCHED_MAP_TYPE);
	__uint(max_entries, 4096);
	__uint(map_flags, SCHED_MAP_FLAGS);
	__type(key, __u64);
	__type(value, struct sched_counts);
} sched_cgroups SEC(".maps");

/* Written from any CPU (bpf_map_lookup_percpu_elem): adds are atomic. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sched_cpu);
} sched_cpus SEC(".maps");

/* Completed iterator runs; tags per-interval maxima. Only the iterator's end-of-run call increments it. */
__u64 flush_cycle = 0;

/* Exited processes written per dump call: 32 records of at most 504 bytes, half of seq_file's 32 KB buffer. */
#define DUMP_BATCH 32

/*
 * Processes whose last thread exited, in order, for the dump to write once
 * more and let go: a dump call takes a batch, so a read costs what exited,
 * however many processes exit at once. As many as the process map holds:
 * each of its entries is queued at most once.
 */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 16384);
	__type(value, __u32);
} sched_exited SEC(".maps");

/* Taken from the queue by a dump call, written by it (again when seq_file runs it again), then let go (drop_carried). */
__u32 carry_n = 0;
__u32 carry[DUMP_BATCH];

static __always_inline struct sched_tid *tid_slot(struct task_struct *t)
{
	__u32 k = t->pid & (SCHED_TID_SLOTS - 1);

	return bpf_map_lookup_elem(&sched_tids, &k);
}

static __always_inline bool slot_owned(struct sched_tid *e, struct task_struct *t)
{
	return e->start == t->start_time && e->pid == t->pid;
}

/*
 * A process whose last thread exited and that no dump wrote since (its exit
 * makes it active in that cycle; a dump pass marks what it wrote with a
 * later cycle). Such an entry is written, however many reads it takes when
 * many processes exit at once, and kept until then.
 */
static __always_inline bool exit_unwritten(struct sched_proc *p)
{
	return p->exited && p->c.dumped <= p->c.active;
}

/* The counters of a CPU; before 5.19 (no helper for another CPU's value), this CPU's: a moved task's waits then count where they are folded. */
static __always_inline struct sched_cpu *cpu_counters(__u32 cpu)
{
	__u32 zero = 0;

	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_map_lookup_percpu_elem))
		return bpf_map_lookup_percpu_elem(&sched_cpus, &zero, cpu);
	return bpf_map_lookup_elem(&sched_cpus, &zero);
}

static __always_inline void cpu_add_wait(__u32 cpu, __u64 ns)
{
	struct sched_cpu *c = cpu_counters(cpu);

	if (c && ns)
		__sync_fetch_and_add(&c->wait_ns, ns);
}

/*
 * Move the slot's unfolded waits to its CPU's counters; the owner's switches,
 * the iterator and exit may race: one wins each amount (in the compat
 * variant, rarely, both or neither: the CPU's wait share only).
 */
static __always_inline void fold_cpu(struct sched_tid *e)
{
	__u64 cum = e->cpu_wait_ns, folded;
	__u32 cpu;

	barrier();
	cpu = e->cpu;
	folded = e->cpu_folded;
	if (cum > folded && cas(&e->cpu_folded, folded, cum) == folded)
		cpu_add_wait(cpu, cum - folded);
}

/* Claim a free slot for t (its state starts untracked); false when another task holds it. */
static __always_inline bool claim_slot(struct sched_tid *e, struct task_struct *t, __u32 cpu)
{
	if (cas(&e->start, 0, t->start_time) != 0)
		return false;
	e->cpu = cpu;
	e->cpu_wait_ns = 0;
	e->cpu_folded = 0;
	e->sw.tracked = 0;
	e->sw.preempted = 0;
	barrier();
	e->pid = t->pid;
	return true;
}

/* Free the slot of t (exiting): its CPU share first. */
static __always_inline void release_slot(struct sched_tid *e)
{
	fold_cpu(e);
	e->sw.tracked = 0;
	e->pid = 0;
	barrier();
	e->start = 0;
}

/*
 * A slot held by a task that is gone (it claimed the slot while the exit hook
 * was not attached yet, or got the CPU again after exiting): free it. Slow
 * path, for the iterator and fork only.
 */
static __always_inline void reap_slot(struct sched_tid *e)
{
	struct task_struct *owner;
	__u64 start = e->start;
	bool alive;

	if (!start || !bpf_task_from_pid)	/* weak: NULL when the kernel lacks it */
		return;
	owner = bpf_task_from_pid(e->pid);
	alive = owner && owner->start_time == start;
	if (owner)
		bpf_task_release(owner);
	if (!alive && e->start == start)
		release_slot(e);
}

/* A wait at or above the threshold: one event naming the task that ran just before the waiter got the CPU. */
static __always_inline void runq_outlier(void *ctx, struct task_struct *t, __u64 wait, struct task_struct *before)
{
	struct tuner_event *e = event_start(EV_RUNQ_OUTLIER, t);

	if (!e)
		return;
	e->value_ns = wait;
	e->arg0 = before->tgid;
	e->arg1 = before->pid;
	bpf_probe_read_kernel_str(e->comm2, sizeof(e->comm2), before->comm);
	event_send(ctx, e);
}

/*
 * The run queue of t's CPU, reached through t (kernels without
 * CONFIG_KALLSYMS_ALL give programs no address of the per-CPU runqueues).
 */
static __always_inline struct rq *task_rq(struct task_struct *t)
{
	struct task_struct *u = t;

	if (!bpf_core_field_exists(t->se.cfs_rq->rq))	/* needs CONFIG_FAIR_GROUP_SCHED */
		return NULL;
	/*
	 * Walked through an untrusted alias (the same loads, free at run time):
	 * at each pointer loaded from a trusted one, the verifier searches the
	 * kernel's BTF by name for "__safe_trusted" and RCU variants of the type,
	 * a linear scan each, 14 ms of this object's load here.
	 */
	if (bpf_rdonly_cast)	/* weak: NULL when the kernel lacks it */
		u = bpf_rdonly_cast(t, bpf_core_type_id_kernel(struct task_struct));
	return u->se.cfs_rq->rq;
}

static __always_inline void count_wait(void *ctx, struct sched_sw *sw, __u64 delta, struct task_struct *t, struct task_struct *before)
{
	sw->hist[sw->preempted & 1][hist_slot(delta, SCHED_SLOTS)]++;
	sw->waits++;
	if (delta > sw->max_wait_ns)
		sw->max_wait_ns = delta;
	if (sw->outlier_ns && delta >= sw->outlier_ns)
		runq_outlier(ctx, t, delta, before);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct sched_task *s = NULL;
	struct sched_sw *sw;
	struct sched_tid *e;
	struct rq *rq;
	__u64 queued, pending, rd, delta;
	__u32 cpu;

	/* The task leaving: only a preemption is noted (most switches are a task going to sleep). */
	if (prev->pid && (preempt || task_state(prev) == TASK_RUNNING)) {
		e = tid_slot(prev);
		if (e && slot_owned(e, prev))
			e->sw.preempted = 1;
		else if ((s = task_get(prev, false)) && !s->in_slot)
			s->sw.preempted = 1;
	}

	/* The task getting the CPU: the wait that ends now (idle never waits; last_queued 0: it did not queue). */
	queued = next->sched_info.last_queued;
	if (!queued || !next->pid)
		return 0;
	rq = task_rq(next);
	if (!rq)
		return 0;
	pending = rq->clock - queued;
	if ((__s64)pending < 0)
		pending = 0;
	rd = next->sched_info.run_delay + pending;

	e = tid_slot(next);
	if (!e)
		return 0;
	cpu = bpf_get_smp_processor_id();
	if (!slot_owned(e, next)) {
		/* Not in its slot: a task in scope whose slot was taken keeps its state in task storage. */
		s = task_get(next, false);
		if ((s && !s->in_slot) || (next->flags & PF_EXITING) || !claim_slot(e, next, cpu)) {
			cpu_add_wait(cpu, pending);
			if (!s || s->in_slot || !s->sw.tracked)
				return 0;
			sw = &s->sw;
			goto hist;
		}
	}
	if (e->cpu != cpu) {
		fold_cpu(e);
		e->cpu = cpu;
		barrier();	/* a reader that sees the new wait sees the new CPU (fold_cpu reads in reverse order) */
	}
	e->cpu_wait_ns += pending;
	sw = &e->sw;
	if (!sw->tracked)
		return 0;
hist:
	delta = rd - sw->run_delay_seen;
	sw->run_delay_seen = rd;
	count_wait(ctx, sw, delta, next, prev);
	sw->preempted = 0;
	return 0;
}

/*
 * The flush's loops over histogram slots are bpf_loop callbacks: the
 * verifier checks a callback once, where it walks an open loop once per
 * slot, for each of its copies (the flush is inlined in three programs):
 * 23,000 fewer instructions to check, about 5 ms of the object's load here.
 */
struct hist_add {
	struct sched_counts *dst;
	struct sched_counts *d;
	struct sched_hist_mask *nonzero;	/* a process's, or NULL */
};

/* Bit `bit` of *m, set after the slot it names grew, so a dump that sees it reads a non-zero slot. */
static __always_inline void mark_nonzero(__u64 *m, __u64 bit)
{
#ifndef TUNER_COMPAT
	if (!(*m & bit))
		__sync_fetch_and_or(m, bit);
#endif
}

static long add_slot(__u32 i, struct hist_add *x)
{
	if (i >= SCHED_SLOTS)
		return 1;
	if (x->d->hist_wakeup[i]) {
		__sync_fetch_and_add(&x->dst->hist_wakeup[i], x->d->hist_wakeup[i]);
		if (x->nonzero)
			mark_nonzero(&x->nonzero->wakeup, 1ULL << i);
	}
	if (x->d->hist_preempt[i]) {
		__sync_fetch_and_add(&x->dst->hist_preempt[i], x->d->hist_preempt[i]);
		if (x->nonzero)
			mark_nonzero(&x->nonzero->preempt, 1ULL << i);
	}
	return 0;
}

/*
 * Which histogram slots of a flush's deltas hold anything: every slot, none
 * (no new wait), or the one slot of a single new wait (its index). The
 * compat variant always takes every slot.
 */
#define HIST_ALL SCHED_SLOTS
#define HIST_NONE (SCHED_SLOTS + 1)

static __always_inline void add_counts(struct sched_counts *dst, struct sched_hist_mask *nonzero, struct sched_counts *d,
				       __u64 cycle, __u32 hslot)
{
	struct hist_add x = { .dst = dst, .d = d, .nonzero = nonzero };

	__sync_fetch_and_add(&dst->oncpu_ns, d->oncpu_ns);
	__sync_fetch_and_add(&dst->run_delay_ns, d->run_delay_ns);
	__sync_fetch_and_add(&dst->timeslices, d->timeslices);
	__sync_fetch_and_add(&dst->nvcsw, d->nvcsw);
	__sync_fetch_and_add(&dst->nivcsw, d->nivcsw);
	__sync_fetch_and_add(&dst->waits, d->waits);
	__sync_fetch_and_add(&dst->wait_ns, d->wait_ns);
#ifdef TUNER_COMPAT
	loop(SCHED_SLOTS, SCHED_SLOTS, add_slot, &x);
#else
	if (hslot == HIST_ALL)
		loop(SCHED_SLOTS, SCHED_SLOTS, add_slot, &x);
	else if (hslot < SCHED_SLOTS)
		add_slot(hslot, &x);
#endif
	if (dst->active != cycle)
		dst->active = cycle;
}

/*
 * Scratch, too large for the 512-byte BPF stack: [0] the deltas of one flush,
 * [1] the template of a new entry (map updates copy from memory).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct sched_proc);
} sched_scratch SEC(".maps");

/* A zeroed entry for key (born in `cycle`), unless one exists. */
static __always_inline void create_entry(void *map, void *key, __u64 cycle, bool proc)
{
	struct sched_proc *tmpl;
	__u32 one = 1;

	tmpl = bpf_map_lookup_elem(&sched_scratch, &one);
	if (!tmpl)
		return;
	__builtin_memset(tmpl, 0, sizeof(*tmpl));
	tmpl->c.created = cycle;
	bpf_map_update_elem(map, key, proc ? (void *)tmpl : (void *)&tmpl->c, BPF_NOEXIST);
}

/* The entry for key, created zeroed (born in `cycle`) when missing. */
static __always_inline void *lookup_or_create(void *map, void *key, __u64 cycle, bool proc)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	create_entry(map, key, cycle, proc);
	return bpf_map_lookup_elem(map, key);
}

/* Where t's switches count: its table slot, or its task storage; NULL if its slot was freed (exiting). */
static __always_inline struct sched_sw *task_sw(struct task_struct *t, struct sched_task *s)
{
	struct sched_tid *e;

	if (!s->in_slot)
		return &s->sw;
	e = tid_slot(t);
	return e && slot_owned(e, t) ? &e->sw : NULL;
}

struct hist_delta {
	struct sched_sw *sw;
	struct sched_task *s;
	struct sched_counts *d;
};

/* Slot i of the histograms' growth since the last flush (a bpf_loop callback, see add_slot). */
static long delta_slot(__u32 i, struct hist_delta *x)
{
	__u32 h;

	if (i >= SCHED_SLOTS)
		return 1;
	h = x->sw->hist[0][i];
	x->d->hist_wakeup[i] = h - x->s->f_hist[0][i];
	x->s->f_hist[0][i] = h;
	h = x->sw->hist[1][i];
	x->d->hist_preempt[i] = h - x->s->f_hist[1][i];
	x->s->f_hist[1][i] = h;
	return 0;
}

/* Move what task t accumulated since its last flush into its process and cgroup entries. */
static __always_inline void flush_task(struct task_struct *t, struct sched_task *s, __u64 cycle)
{
	struct sched_counts *d, *cgc;
	struct sched_proc *p, *scratch;
	struct sched_sw *sw;
	__u32 zero = 0, tgid, hslot = HIST_ALL;
	__u64 v, max = 0, cgid;

	scratch = bpf_map_lookup_elem(&sched_scratch, &zero);
	if (!scratch)
		return;
	d = &scratch->c;
	/* The iterator and the exit hook may flush the same task at once: one wins, the other skips. */
	if (cas(&s->flushing, 0, 1) != 0)
		return;

	v = t->se.sum_exec_runtime; d->oncpu_ns = v - s->f_oncpu; s->f_oncpu = v;
	v = t->sched_info.run_delay; d->run_delay_ns = v - s->f_run_delay; s->f_run_delay = v;
	v = t->sched_info.pcount; d->timeslices = v - s->f_pcount; s->f_pcount = v;
	v = t->nvcsw; d->nvcsw = v - s->f_nvcsw; s->f_nvcsw = v;
	v = t->nivcsw; d->nivcsw = v - s->f_nivcsw; s->f_nivcsw = v;
	/* A task that neither ran nor switched has nothing to report: its process may go idle (and be collected). */
	if (!d->oncpu_ns && !d->nvcsw && !d->nivcsw && !d->run_delay_ns && !d->timeslices)
		goto out;
	sw = task_sw(t, s);
	if (sw) {
		struct hist_delta x = { .sw = sw, .s = s, .d = d };

		v = sw->waits; d->waits = v - s->f_waits; s->f_waits = v;
		v = sw->run_delay_seen; d->wait_ns = v - s->f_wait_seen; s->f_wait_seen = v;
#ifdef TUNER_COMPAT
		loop(SCHED_SLOTS, SCHED_SLOTS, delta_slot, &x);
#else
		/*
		 * Most tasks of a big host have no new wait, or one (a process
		 * that started and went to sleep): their histograms grew in no
		 * slot, or by one in the slot of that wait's length, and only
		 * that slot is read. When it did not grow by exactly one (a
		 * switch on another CPU raced the reads of `waits` and
		 * `run_delay_seen`), every slot is. A slot's baseline moves only
		 * when the slot is read, whole: a wait counted after these reads
		 * shows at the next flush.
		 */
		if (!d->waits) {
			hslot = HIST_NONE;
		} else if (d->waits == 1) {
			__u64 k = hist_slot(d->wait_ns, SCHED_SLOTS);
			__u32 grew = sw->hist[0][k] - s->f_hist[0][k] + sw->hist[1][k] - s->f_hist[1][k];

			if (grew == 1) {
				hslot = k;
				delta_slot(k, &x);
			} else {
				loop(SCHED_SLOTS, SCHED_SLOTS, delta_slot, &x);
			}
		} else {
			loop(SCHED_SLOTS, SCHED_SLOTS, delta_slot, &x);
		}
#endif
		max = take_zero(&sw->max_wait_ns);
	} else {
		d->waits = 0;
		d->wait_ns = 0;
#ifdef TUNER_COMPAT
		__builtin_memset(d->hist_wakeup, 0, sizeof(d->hist_wakeup));
		__builtin_memset(d->hist_preempt, 0, sizeof(d->hist_preempt));
#else
		hslot = HIST_NONE;
#endif
	}

	tgid = t->tgid;
	cgid = cgroup_id(task_cpu_cgroup(t));
	p = lookup_or_create(&sched_procs, &tgid, cycle, true);
	if (p) {
		if (!p->comm[0])
			bpf_probe_read_kernel_str(p->comm, sizeof(p->comm), BPF_CORE_READ(t, group_leader)->comm);
		p->cgroup_id = cgid;
		if (p->max_cycle != cycle) {
			p->max_cycle = cycle;
			p->max_wait_ns = 0;
		}
		if (max > p->max_wait_ns)
			p->max_wait_ns = max;
		if (p->threads_cycle != cycle) {
			p->threads_cycle = cycle;
			p->threads = 0;
		}
		__sync_fetch_and_add(&p->threads, 1);
		add_counts(&p->c, &p->nonzero, d, cycle, hslot);
	}
	cgc = lookup_or_create(&sched_cgroups, &cgid, cycle, false);
	if (cgc)
		add_counts(cgc, NULL, d, cycle, hslot);
out:
	s->flushing = 0;
}

static __always_inline __u64 config_outlier_ns(void)
{
	__u32 zero = 0;
	struct sched_config *cfg = bpf_map_lookup_elem(&sched_config, &zero);

	return cfg ? cfg->outlier_ns : 0;
}

/*
 * Start keeping t's switch state (new storage s): in its table slot when it
 * holds it or can take it, else in s. run_delay_seen is where its next wait
 * is measured from. `tracked` is set last: until then its switches skip it.
 */
static __always_inline void track_task(struct task_struct *t, struct sched_task *s, __u64 run_delay_seen)
{
	struct sched_tid *e = tid_slot(t);
	struct sched_sw *sw = &s->sw;

	if (e && !slot_owned(e, t)) {
		reap_slot(e);
		claim_slot(e, t, bpf_get_smp_processor_id());
	}
	s->in_slot = e && slot_owned(e, t);
	if (e && s->in_slot)
		sw = &e->sw;
	sw->tracked = 0;
	barrier();
	__builtin_memset(sw->hist, 0, sizeof(sw->hist));
	sw->waits = 0;
	sw->max_wait_ns = 0;
	sw->outlier_ns = config_outlier_ns();
	sw->run_delay_seen = run_delay_seen;
	s->f_wait_seen = run_delay_seen;
	barrier();
	sw->tracked = 1;
}

/* Start observing t now: baselines are its current counters, so only what follows is counted. */
static __always_inline void adopt_task(struct task_struct *t)
{
	struct sched_task *s = task_get(t, true);

	if (!s)
		return;
	s->f_oncpu = t->se.sum_exec_runtime;
	s->f_run_delay = t->sched_info.run_delay;
	s->f_pcount = t->sched_info.pcount;
	s->f_nvcsw = t->nvcsw;
	s->f_nivcsw = t->nivcsw;
	track_task(t, s, s->f_run_delay);
}

/* Stop observing t (it left the scope): last flush, then its state goes. */
static __always_inline void drop_task(struct task_struct *t, struct sched_task *s)
{
	struct sched_sw *sw;

	flush_task(t, s, flush_cycle);
	sw = task_sw(t, s);
	if (sw)
		sw->tracked = 0;
	task_put(t);
}

/*
 * The run queue's own switch count, into sched_cpus, through a task of that
 * CPU: every CPU has some (its per-CPU kernel threads), the iterator visits
 * them all.
 */
static __always_inline void copy_switches(struct task_struct *t)
{
	struct rq *rq = task_rq(t);
	struct sched_cpu *c;

	if (!rq)
		return;
	/* Before 5.19 only this CPU's counters are reachable (see cpu_counters): other CPUs' switches are not copied. */
	if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_map_lookup_percpu_elem) && rq->cpu != bpf_get_smp_processor_id())
		return;
	c = cpu_counters(rq->cpu);
	if (c)
		c->switches = rq->nr_switches;
}

#ifndef TUNER_COMPAT
/*
 * Entries idle for a whole cycle were fully reported by the read after their
 * last active cycle: delete them, so reads move only what is alive.
 */
static long gc_proc(void *map, __u32 *key, struct sched_proc *p, __u64 *cycle)
{
	/* An exited process waits for the dump to write it (from the queue), unless that never came. */
	if (p->c.active + 1 < *cycle && (!exit_unwritten(p) || p->c.active + 16 < *cycle))
		bpf_map_delete_elem(map, key);
	return 0;
}

static long gc_cgroup(void *map, __u64 *key, struct sched_counts *c, __u64 *cycle)
{
	if (c->active + 1 < *cycle)
		bpf_map_delete_elem(map, key);
	return 0;
}
#endif

/*
 * Run by reading the pinned link (userspace does, once per interval): visits
 * every task, adopts tasks that entered the scope, drops tasks that left it,
 * flushes the rest. Its output is one line: the cycle number and task count.
 */
SEC("iter/task")
int flush(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct seq_file *seq = ctx->meta->seq;
	struct sched_task *s;
	struct sched_tid *e;
	static __u64 visited;

	if (!t) {
		__u64 cycle = flush_cycle;

#ifndef TUNER_COMPAT
		bpf_for_each_map_elem(&sched_procs, gc_proc, &cycle, 0);
		bpf_for_each_map_elem(&sched_cgroups, gc_cgroup, &cycle, 0);
#endif
		BPF_SEQ_PRINTF(seq, "cycle %llu tasks %llu\n", cycle, visited);
		/*
		 * bpftool's event_pipe holds an event's last line until the next
		 * event: one tick per cycle bounds that delay to one interval.
		 */
		{
			__u32 zero = 0;
			struct tuner_event *e = bpf_map_lookup_elem(&tuner_ev_buf, &zero);

			if (e) {
				__builtin_memset(e, 0, sizeof(*e));
				e->type = EV_TICK;
				bpf_perf_event_output(ctx, &tuner_events, BPF_F_CURRENT_CPU, e, sizeof(*e));
			}
		}
		visited = 0;
		__sync_fetch_and_add(&flush_cycle, 1);
		return 0;
	}
	/* Every task's waits count for their CPU, in scope or not. */
	copy_switches(t);
	e = tid_slot(t);
	if (e && slot_owned(e, t))
		fold_cpu(e);
	s = task_get(t, false);
	if (!task_in_scope(t)) {
		if (s)
			drop_task(t, s);
		return 0;
	}
	visited++;
	if (!s) {
		adopt_task(t);
		return 0;
	}
	flush_task(t, s, flush_cycle);
	return 0;
}

/*
 * Dump pass. seq_file hands the iterator a 32 KB buffer and runs a call again
 * in an empty one when its output does not fit, so: each call writes little
 * (its task's process and cgroup entries, and a batch of exited processes),
 * and marks entries written only once all of its output fitted.
 */

/* What the last call writes at most (entries no live task led to), under the 32 KB buffer. */
#define DUMP_REST_BYTES (28 * 1024)

/*
 * Globals the verifier can not know (writable, never written): callback
 * counters that start from a known constant make the verifier go through the
 * callback once per value they take (60 ms more to load the object); from
 * these, its states converge at once.
 */
__u32 dump_zero = 0;
__u32 dump_rest_bytes = DUMP_REST_BYTES;

/*
 * The cgroup of the last process a dump call wrote, and that pass: the next
 * process in the same cgroup (most are) skips its lookup. Its cgroup was
 * written or unchanged then; a change since is written by the last call.
 */
__u64 dump_cg_last = 0;
__u64 dump_cg_cycle = 0;

struct dump_ctx {
	struct seq_file *seq;
	__u64 cycle;
	__u32 budget;
};

/*
 * Whether the dump pass of `cycle` writes entry c: not yet written by it,
 * and changed since the pass before (flushed in the cycle that pass ended,
 * or later: active + 1 >= cycle). An idle entry is not written again; it
 * stays as it is until the flush's collection deletes it, and the reader
 * keeps its last reading until then. A read costs what changed. The compat
 * variant writes every entry: nothing deletes idle ones there.
 */
static __always_inline bool to_write(struct sched_counts *c, __u64 cycle)
{
	if (c->dumped == cycle)
		return false;
#ifdef TUNER_COMPAT
	return true;
#else
	return c->active + 1 >= cycle;
#endif
}

static __always_inline int write_rec(struct seq_file *seq, __u32 kind, __u64 key, void *v, __u32 size)
{
	struct sched_rec r = { .kind = kind, .size = size, .key = key };

	if (bpf_seq_write(seq, &r, sizeof(r)))
		return -1;
	return bpf_seq_write(seq, v, size) ? -1 : 0;
}

#ifndef TUNER_COMPAT
_Static_assert(SCHED_PROC_HEAD == __builtin_offsetof(struct sched_proc, c.hist_wakeup), "SCHED_PROC_HEAD");

/* A sparse process record being made: its masks and non-zero slots (one spare zero pads it to 8 bytes). */
struct sched_sparse {
	struct sched_hist_mask mask;
	__u32 vals[2 * SCHED_SLOTS + 2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sched_sparse);
} sched_sparse SEC(".maps");

/* The largest sparse process record: every slot non-zero. */
#define SPARSE_MAX (sizeof(struct sched_rec) + SCHED_PROC_HEAD + sizeof(struct sched_hist_mask) + 4 * 2 * SCHED_SLOTS)

struct sparse_ctx {
	__u32 *hist;		/* hist_wakeup, then hist_preempt right after it */
	struct sched_sparse *sp;
	__u64 wakeup;		/* slots left to write */
	__u64 preempt;
	__u32 n;
};

/* Index of the lowest set bit of a power of two (de Bruijn: no count-trailing-zeros instruction in BPF). */
static const __u8 debruijn64[64] = {
	0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4,
	62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
	63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
	46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6,
};

static __always_inline __u32 lowest_bit(__u64 m)
{
	return debruijn64[((m & -m) * 0x03f79d71b4cb0a89ULL) >> 58];
}

/*
 * The next non-zero slot, in slot order, wakeup first (a bpf_loop
 * callback): one call per slot the masks name, not per slot.
 */
static long sparse_slot(__u32 i, struct sparse_ctx *x)
{
	__u32 k, n = x->n;

	if (n >= 2 * SCHED_SLOTS)
		return 1;
	if (x->wakeup) {
		k = lowest_bit(x->wakeup);
		x->wakeup &= x->wakeup - 1;
	} else if (x->preempt) {
		k = lowest_bit(x->preempt) + SCHED_SLOTS;
		x->preempt &= x->preempt - 1;
	} else {
		return 1;
	}
	if (k >= 2 * SCHED_SLOTS)
		return 1;
	x->sp->vals[n] = x->hist[k];
	x->n = n + 1;
	return 0;
}

/* A process entry as a SCHED_REC_PROC_SPARSE record; nonzero when it did not fit. */
static __always_inline int write_proc(struct seq_file *seq, __u32 tgid, struct sched_proc *p)
{
	struct sparse_ctx x = { .hist = p->c.hist_wakeup, .n = dump_zero };
	__u64 all = (1ULL << SCHED_SLOTS) - 1;
	struct sched_rec r = { .kind = SCHED_REC_PROC_SPARSE, .key = tgid };
	__u32 zero = 0, n;

	x.sp = bpf_map_lookup_elem(&sched_sparse, &zero);
	if (!x.sp)
		return -1;
	/* Read once: a flush on another CPU may set more bits, whose slots the next dump writes. */
	x.wakeup = *(volatile __u64 *)&p->nonzero.wakeup & all;
	x.preempt = *(volatile __u64 *)&p->nonzero.preempt & all;
	x.sp->mask.wakeup = x.wakeup;
	x.sp->mask.preempt = x.preempt;
	if (x.wakeup | x.preempt)
		bpf_loop(2 * SCHED_SLOTS, sparse_slot, &x, 0);
	n = x.n;
	if (n > 2 * SCHED_SLOTS)
		return -1;
	x.sp->vals[n] = 0;
	n = (n + 1) & ~1U;
	r.size = SCHED_PROC_HEAD + sizeof(struct sched_hist_mask) + 4 * n;
	if (bpf_seq_write(seq, &r, sizeof(r)) || bpf_seq_write(seq, p, SCHED_PROC_HEAD))
		return -1;
	return bpf_seq_write(seq, x.sp, sizeof(struct sched_hist_mask) + 4 * n) ? -1 : 0;
}

/* The last call writes what is left without marking it: if it runs again (buffer full), it writes the same. */
static long rest_proc(void *map, __u32 *key, struct sched_proc *p, struct dump_ctx *d)
{
	if (!to_write(&p->c, d->cycle) && !exit_unwritten(p))
		return 0;
	if (d->budget < SPARSE_MAX)
		return 1;
	d->budget -= SPARSE_MAX;
	write_proc(d->seq, *key, p);
	return 0;
}

static long rest_cgroup(void *map, __u64 *key, struct sched_counts *c, struct dump_ctx *d)
{
	if (!to_write(c, d->cycle))
		return 0;
	if (d->budget < sizeof(struct sched_rec) + sizeof(*c))
		return 1;
	d->budget -= sizeof(struct sched_rec) + sizeof(*c);
	write_rec(d->seq, SCHED_REC_CGROUP, *key, c, sizeof(*c));
	return 0;
}

struct carry_ctx {
	struct seq_file *seq;
	__u32 failed;
};

/* The i-th carried process, written if it is still the one that exited (a bpf_loop callback). */
static long write_carried(__u32 i, struct carry_ctx *x)
{
	struct sched_proc *p;
	__u32 tgid;

	if (i >= DUMP_BATCH)
		return 1;
	tgid = carry[i];
	p = bpf_map_lookup_elem(&sched_procs, &tgid);
	if (p && p->exited && write_proc(x->seq, tgid, p)) {
		x->failed = 1;
		return 1;
	}
	return 0;
}
#endif

/*
 * Exited processes (the queue sched_exit fills): up to DUMP_BATCH are taken
 * into `carry` and written; nonzero when the buffer is full (the call runs
 * again and writes the same ones).
 */
static __always_inline int dump_carried(struct seq_file *seq)
{
	__u32 tgid;

	if (!carry_n) {
		for (__u32 i = 0; i < DUMP_BATCH; i++) {
			if (bpf_map_pop_elem(&sched_exited, &tgid))
				break;
			carry[i] = tgid;
			carry_n = i + 1;
		}
	}
#ifdef TUNER_COMPAT
	for (__u32 i = 0; i < DUMP_BATCH; i++) {
		struct sched_proc *p;

		if (i >= carry_n)
			break;
		tgid = carry[i];
		p = bpf_map_lookup_elem(&sched_procs, &tgid);
		if (p && write_rec(seq, SCHED_REC_PROC, tgid, p, sizeof(*p)))
			return -1;
	}
	return 0;
#else
	struct carry_ctx x = { .seq = seq, .failed = 0 };

	if (carry_n)
		bpf_loop(carry_n, write_carried, &x, 0);
	return x.failed ? -1 : 0;
#endif
}

/* The carried processes were written whole: an exited process is written once more, then never (compat: its entry goes). */
static __always_inline void drop_carried(void)
{
	struct sched_proc *p;
	__u32 tgid;

	for (__u32 i = 0; i < DUMP_BATCH; i++) {
		if (i >= carry_n)
			break;
		tgid = carry[i];
		p = bpf_map_lookup_elem(&sched_procs, &tgid);
		if (!p || !p->exited)	/* gone, or a new process that took the tgid since */
			continue;
#ifdef TUNER_COMPAT
		bpf_map_delete_elem(&sched_procs, &tgid);
#else
		/* Written after its exit (see exit_unwritten); the flush's collection deletes it. */
		p->c.dumped = p->c.active + 1;
#endif
	}
	carry_n = 0;
}

/*
 * Run by reading its pinned link right after `flush`: writes every process
 * and cgroup entry once (struct sched_rec + the entry): a process and its
 * cgroup (the one its threads were last flushed in) at the first of its
 * tasks visited; exited processes first, in batches; in the last call, what
 * no live task led to (a cgroup that holds only some threads of processes
 * whose other threads are elsewhere, too). Each CPU's counters, at the
 * first task of that CPU. The other tasks cost two lookups.
 */
SEC("iter/task")
int dump(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct dump_ctx d = { .seq = ctx->meta->seq, .cycle = flush_cycle, .budget = dump_rest_bytes };
	struct sched_counts *c = NULL;
	struct sched_cpu *cc = NULL;
	struct sched_proc *p;
	struct rq *rq;
	__u64 cgid;
	__u32 tgid;

#ifdef TUNER_COMPAT
	/* No map walk: entries no live task leads to are not written (see dump_carried for exited processes). */
	if (!t)
		return 0;
#else
	if (!t) {
		bpf_for_each_map_elem(&sched_procs, rest_proc, &d, 0);
		bpf_for_each_map_elem(&sched_cgroups, rest_cgroup, &d, 0);
		return 0;
	}
#endif
	if (dump_carried(d.seq))
		return 0;	/* not let go: this call runs again in an empty buffer */
	tgid = t->tgid;
	p = bpf_map_lookup_elem(&sched_procs, &tgid);
	if (p && !to_write(&p->c, d.cycle) && !exit_unwritten(p))
		p = NULL;	/* written at an earlier task of its process, or unchanged */
	if (p) {
#ifdef TUNER_COMPAT
		if (write_rec(d.seq, SCHED_REC_PROC, tgid, p, sizeof(*p)))
#else
		if (write_proc(d.seq, tgid, p))
#endif
			return 0;
		cgid = p->cgroup_id;
		if (cgid != dump_cg_last || dump_cg_cycle != d.cycle)
			c = bpf_map_lookup_elem(&sched_cgroups, &cgid);
		if (c && !to_write(c, d.cycle))
			c = NULL;
		if (c && write_rec(d.seq, SCHED_REC_CGROUP, cgid, c, sizeof(*c)))
			return 0;
	}
	/* The counters of the task's CPU, at the first task of each CPU (every CPU has its own kernel threads). */
	rq = task_rq(t);
	if (rq) {
		cc = cpu_counters(rq->cpu);
		if (cc && cc->dumped == d.cycle)
			cc = NULL;
		if (cc && write_rec(d.seq, SCHED_REC_CPU, rq->cpu, cc, sizeof(*cc)))
			return 0;
	}
	/* All of it fitted: mark. */
	if (p) {
		p->c.dumped = d.cycle;
		dump_cg_last = cgid;
		dump_cg_cycle = d.cycle;
	}
	if (c)
		c->dumped = d.cycle;
	if (cc)
		cc->dumped = d.cycle;
	drop_carried();
	return 0;
}

/* New tasks of an observed process (threads, and children when asked) are observed from birth. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_fork, struct task_struct *parent, struct task_struct *child)
{
	struct tuner_scope *cfg = scope_config();
	struct sched_task *s;

	if (!cfg)
		return 0;
	if (cfg->scope != SCOPE_ALL && !task_get(parent, false))
		return 0;
	scope_follow_fork(parent, child);
	if (cfg->scope == SCOPE_PIDS && !task_in_scope(child))
		return 0;
	/* A new task's counters all start at zero, so zero baselines are exact. */
	s = task_get(child, true);
	if (s)
		track_task(child, s, 0);
#ifndef TUNER_COMPAT
	/*
	 * A new process's entry is made here, once, not by the flush that
	 * first reports it: a read after many processes started costs what
	 * they did, not making their entries (about 1 us each). Its comm is
	 * taken by that flush (after an exec, usually).
	 */
	if (s && child->pid == child->tgid) {
		__u32 tgid = child->tgid;
		struct sched_proc *p = bpf_map_lookup_elem(&sched_procs, &tgid);

		/* An exited process's entry not yet written and deleted: the tgid is a new process's now. */
		if (p && p->exited)
			bpf_map_delete_elem(&sched_procs, &tgid);
		if (!p || p->exited)
			create_entry(&sched_procs, &tgid, flush_cycle, true);
	}
#endif
	return 0;
}

/* exec of an observed process: an event (the feed shows what started in scope). */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_exec, struct task_struct *t)
{
	struct tuner_event *e;

	if (!task_get(t, false))
		return 0;
	e = event_start(EV_EXEC, t);
	if (e)
		event_send(ctx, e);
	return 0;
}

/*
 * A thread's last counts would vanish with it: flush them, free its table
 * slot (any task's); mark the process gone with its last thread.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_exit, struct task_struct *t)
{
	struct sched_task *s = task_get(t, false);
	struct sched_tid *slot = tid_slot(t);
	struct sched_proc *p;
	__u32 tgid;

	if (s)
		flush_task(t, s, flush_cycle);
#ifdef TUNER_COMPAT
	if (s)
		task_put(t);	/* task storage goes with its task; this entry is deleted here */
#endif
	if (slot && slot_owned(slot, t))
		release_slot(slot);
	if (!s)
		return 0;
	if (BPF_CORE_READ(t, signal, live.counter) == 0) {
		struct tuner_event *e = event_start(EV_EXIT, t);

		if (e)
			event_send(ctx, e);
		tgid = t->tgid;
		p = bpf_map_lookup_elem(&sched_procs, &tgid);
		if (p && !p->exited) {
			p->c.active = flush_cycle;	/* the exit is a change, whatever the last flush took */
			p->exited = 1;
			bpf_map_push_elem(&sched_exited, &tgid, 0);
		}
	}
	return 0;
}
