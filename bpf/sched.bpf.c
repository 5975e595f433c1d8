// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler signals: run-queue wait, on-CPU time and context switches per
 * process and per CPU-controller cgroup, run-queue length per CPU.
 *
 * Design (cheap per event, exact totals):
 *  - The kernel already accounts, per task, on-CPU time (se.sum_exec_runtime),
 *    run-queue wait (sched_info.run_delay, CONFIG_SCHED_INFO) and switches
 *    (nvcsw/nivcsw). The totals are those counters, read by a task iterator
 *    (`flush`) that userspace runs once per interval, and at thread exit.
 *  - Per switch, only the histograms: when a task leaves the CPU, the growth
 *    of its run_delay since it last left is the wait that preceded this run
 *    (split waits of a migrated task are summed, as the kernel does). No
 *    wakeup hooks, no timestamp maps, one task-storage lookup.
 *  - Run-queue length per CPU by Little's law: the sum of every task's waits
 *    that ended on a CPU, over the interval, is the mean number of waiting
 *    tasks. Measured at switch-in as rq->clock - next->sched_info.last_queued.
 *  - Per-task state lives in task local storage (no hash lookup per switch).
 *  - Reading: a second task iterator (`dump`) writes the process and cgroup
 *    entries in binary, each once per interval, so a read moves the entries
 *    themselves instead of bpftool's JSON of them (about 4 KB per process).
 */
#include "include/vmlinux.h"
#include "include/compat.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "include/scope.bpf.h"
#include "include/events.bpf.h"
#include "sched.h"

char LICENSE[] SEC("license") = "GPL";

/* Per-task state. Fields before `f_` are written only by the task's own switches, fields from `f_` on only by a flush. */
struct sched_task {
	__u32 hist[2][SCHED_SLOTS];	/* [0] after a wakeup, [1] after a preemption */
	__u64 run_delay_seen;		/* sched_info.run_delay when the task last left the CPU */
	__u64 waits;
	__u64 wait_ns;
	__u64 max_wait_ns;		/* since the last flush; the flush swaps it to 0 */
	__u32 preempted;		/* left the CPU still runnable: its next wait is a preemption wait */
	__u32 flushing;			/* a flush is in progress (iterator vs exit hook) */
	__u32 f_hist[2][SCHED_SLOTS];
	__u64 f_waits;
	__u64 f_wait_ns;
	__u64 f_oncpu;
	__u64 f_run_delay;
	__u64 f_pcount;
	__u64 f_nvcsw;
	__u64 f_nivcsw;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* required for local storage */
	__type(key, int);
	__type(value, struct sched_task);
} sched_tasks SEC(".maps");

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
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct sched_proc);
} sched_procs SEC(".maps");

/* One entry per CPU-controller cgroup with observed tasks; hosts rarely have more than a few thousand. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct sched_counts);
} sched_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sched_cpu);
} sched_cpus SEC(".maps");

/* Completed iterator runs; tags per-interval maxima. Only the iterator's end-of-run call increments it. */
__u64 flush_cycle = 0;

/* Processes whose last thread exited and that no dump pass has written yet (a hint: the dump writes them first). */
__u64 exited_pending = 0;

/* Per CPU: the task that last left this CPU, i.e. the one that ran before the current task. */
struct sched_ran_before {
	__u32 tgid;
	__u32 pid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sched_ran_before);
} sched_before SEC(".maps");

/* A wait at or above the threshold: one event naming the task that ran just before the waiter got the CPU. */
static __always_inline void runq_outlier(void *ctx, struct task_struct *t, __u64 wait, struct sched_ran_before *before)
{
	struct tuner_event *e = event_start(EV_RUNQ_OUTLIER, t);

	if (!e)
		return;
	e->value_ns = wait;
	if (before) {
		e->arg0 = before->tgid;
		e->arg1 = before->pid;
		__builtin_memcpy(e->comm2, before->comm, sizeof(e->comm2));
	}
	event_send(ctx, e);
}

/* This CPU's run queue, reached through the task about to run (no per-CPU ksyms needed). */
static __always_inline struct rq *task_rq(struct task_struct *t)
{
	if (!bpf_core_field_exists(t->se.cfs_rq->rq))	/* needs CONFIG_FAIR_GROUP_SCHED */
		return NULL;
	return t->se.cfs_rq->rq;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct sched_ran_before *before;
	struct sched_config *cfg;
	struct sched_task *s;
	struct sched_cpu *c;
	struct rq *rq;
	__u32 zero = 0, slot;
	__u64 queued, delta, rd;

	c = bpf_map_lookup_elem(&sched_cpus, &zero);
	if (!c)
		return 0;
	c->switches++;

	/* Every task's wait that ends here, for the run-queue length (idle never waits). */
	queued = next->sched_info.last_queued;
	if (queued && next->pid != 0 && (rq = task_rq(next))) {
		delta = rq->clock - queued;
		if ((__s64)delta > 0) {
			c->waits++;
			c->wait_ns += delta;
		}
	}

	before = bpf_map_lookup_elem(&sched_before, &zero);
	s = bpf_task_storage_get(&sched_tasks, prev, 0, 0);
	if (!s)
		goto remember;
	rd = prev->sched_info.run_delay;
	delta = rd - s->run_delay_seen;
	s->run_delay_seen = rd;
	slot = log2_u64(delta);
	if (slot >= SCHED_SLOTS)
		slot = SCHED_SLOTS - 1;
	s->hist[s->preempted & 1][slot]++;
	s->waits++;
	s->wait_ns += delta;
	if (delta > s->max_wait_ns)
		s->max_wait_ns = delta;
	s->preempted = preempt || task_state(prev) == TASK_RUNNING;
	cfg = bpf_map_lookup_elem(&sched_config, &zero);
	if (cfg && cfg->outlier_ns && delta >= cfg->outlier_ns)
		runq_outlier(ctx, prev, delta, before);
remember:
	if (before) {
		before->tgid = prev->tgid;
		before->pid = prev->pid;
		*(__u64 *)&before->comm[0] = *(__u64 *)&prev->comm[0];
		*(__u64 *)&before->comm[8] = *(__u64 *)&prev->comm[8];
	}
	return 0;
}

static __always_inline void add_counts(struct sched_counts *dst, struct sched_counts *d, __u64 cycle)
{
	__sync_fetch_and_add(&dst->oncpu_ns, d->oncpu_ns);
	__sync_fetch_and_add(&dst->run_delay_ns, d->run_delay_ns);
	__sync_fetch_and_add(&dst->timeslices, d->timeslices);
	__sync_fetch_and_add(&dst->nvcsw, d->nvcsw);
	__sync_fetch_and_add(&dst->nivcsw, d->nivcsw);
	__sync_fetch_and_add(&dst->waits, d->waits);
	__sync_fetch_and_add(&dst->wait_ns, d->wait_ns);
	for (int i = 0; i < SCHED_SLOTS; i++) {
		if (d->hist_wakeup[i])
			__sync_fetch_and_add(&dst->hist_wakeup[i], d->hist_wakeup[i]);
		if (d->hist_preempt[i])
			__sync_fetch_and_add(&dst->hist_preempt[i], d->hist_preempt[i]);
	}
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

/* The entry for key, created zeroed (born in `cycle`) when missing. */
static __always_inline void *lookup_or_create(void *map, void *key, __u64 cycle, bool proc)
{
	struct sched_proc *tmpl;
	__u32 one = 1;
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	tmpl = bpf_map_lookup_elem(&sched_scratch, &one);
	if (!tmpl)
		return NULL;
	__builtin_memset(tmpl, 0, sizeof(*tmpl));
	tmpl->c.created = cycle;
	bpf_map_update_elem(map, key, proc ? (void *)tmpl : (void *)&tmpl->c, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* Move what task t accumulated since its last flush into its process and cgroup entries. */
static __always_inline void flush_task(struct task_struct *t, struct sched_task *s, __u64 cycle)
{
	struct sched_counts *d, *cgc;
	struct sched_proc *p, *scratch;
	__u32 zero = 0, tgid;
	__u64 v, max, cgid;

	scratch = bpf_map_lookup_elem(&sched_scratch, &zero);
	if (!scratch)
		return;
	d = &scratch->c;
	/* The iterator and the exit hook may flush the same task at once: one wins, the other skips. */
	if (__sync_val_compare_and_swap(&s->flushing, 0, 1) != 0)
		return;

	v = t->se.sum_exec_runtime; d->oncpu_ns = v - s->f_oncpu; s->f_oncpu = v;
	v = t->sched_info.run_delay; d->run_delay_ns = v - s->f_run_delay; s->f_run_delay = v;
	v = t->sched_info.pcount; d->timeslices = v - s->f_pcount; s->f_pcount = v;
	v = t->nvcsw; d->nvcsw = v - s->f_nvcsw; s->f_nvcsw = v;
	v = t->nivcsw; d->nivcsw = v - s->f_nivcsw; s->f_nivcsw = v;
	/* A task that neither ran nor switched has nothing to report: its process may go idle (and be collected). */
	if (!d->oncpu_ns && !d->nvcsw && !d->nivcsw && !d->run_delay_ns && !d->timeslices)
		goto out;
	v = s->waits; d->waits = v - s->f_waits; s->f_waits = v;
	v = s->wait_ns; d->wait_ns = v - s->f_wait_ns; s->f_wait_ns = v;
	for (int i = 0; i < SCHED_SLOTS; i++) {
		__u32 h = s->hist[0][i];

		d->hist_wakeup[i] = h - s->f_hist[0][i];
		s->f_hist[0][i] = h;
		h = s->hist[1][i];
		d->hist_preempt[i] = h - s->f_hist[1][i];
		s->f_hist[1][i] = h;
	}
	max = __sync_lock_test_and_set(&s->max_wait_ns, 0);

	tgid = t->tgid;
	cgid = cgroup_id(task_cpu_cgroup(t));
	p = lookup_or_create(&sched_procs, &tgid, cycle, true);
	if (p) {
		if (!p->comm[0])
			bpf_probe_read_kernel_str(p->comm, sizeof(p->comm), t->group_leader->comm);
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
		add_counts(&p->c, d, cycle);
	}
	cgc = lookup_or_create(&sched_cgroups, &cgid, cycle, false);
	if (cgc)
		add_counts(cgc, d, cycle);
out:
	s->flushing = 0;
}

/* Start observing t now: baselines are its current counters, so only what follows is counted. */
static __always_inline struct sched_task *adopt_task(struct task_struct *t)
{
	struct sched_task *s = bpf_task_storage_get(&sched_tasks, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!s)
		return NULL;
	s->f_oncpu = BPF_CORE_READ(t, se.sum_exec_runtime);
	s->f_run_delay = BPF_CORE_READ(t, sched_info.run_delay);
	s->run_delay_seen = s->f_run_delay;
	s->f_pcount = BPF_CORE_READ(t, sched_info.pcount);
	s->f_nvcsw = BPF_CORE_READ(t, nvcsw);
	s->f_nivcsw = BPF_CORE_READ(t, nivcsw);
	return s;
}

/*
 * Entries idle for a whole cycle were fully reported by the read after their
 * last active cycle: delete them, so reads move only what is alive.
 */
static long gc_proc(void *map, __u32 *key, struct sched_proc *p, __u64 *cycle)
{
	if (p->c.active + 1 < *cycle)
		bpf_map_delete_elem(map, key);
	return 0;
}

static long gc_cgroup(void *map, __u64 *key, struct sched_counts *c, __u64 *cycle)
{
	if (c->active + 1 < *cycle)
		bpf_map_delete_elem(map, key);
	return 0;
}

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
	static __u64 visited;

	if (!t) {
		__u64 cycle = flush_cycle;

		bpf_for_each_map_elem(&sched_procs, gc_proc, &cycle, 0);
		bpf_for_each_map_elem(&sched_cgroups, gc_cgroup, &cycle, 0);
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
	s = bpf_task_storage_get(&sched_tasks, t, 0, 0);
	if (!task_in_scope(t)) {
		if (s) {
			flush_task(t, s, flush_cycle);
			bpf_task_storage_delete(&sched_tasks, t);
		}
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

/* Exited processes written per call: 32 entries of about 470 bytes, half the buffer. */
#define DUMP_BATCH 32
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

struct dump_ctx {
	struct seq_file *seq;
	__u64 cycle;
	__u32 n;
	__u32 failed;
	__u32 budget;
	__u32 keys[DUMP_BATCH];
};

static __always_inline int write_rec(struct seq_file *seq, __u32 kind, __u64 key, void *v, __u32 size)
{
	struct sched_rec r = { .kind = kind, .size = size, .key = key };

	if (bpf_seq_write(seq, &r, sizeof(r)))
		return -1;
	return bpf_seq_write(seq, v, size) ? -1 : 0;
}

static long batch_exited(void *map, __u32 *key, struct sched_proc *p, struct dump_ctx *d)
{
	if (!p->exited || p->c.dumped == d->cycle)
		return 0;
	if (d->n >= DUMP_BATCH)
		return 1;
	if (write_rec(d->seq, SCHED_REC_PROC, *key, p, sizeof(*p))) {
		d->failed = 1;
		return 1;
	}
	d->keys[d->n & (DUMP_BATCH - 1)] = *key;
	d->n++;
	return 0;
}

/* Mark the i-th process of the batch (a bpf_loop callback: verified once, not per iteration). */
static long mark_batch(__u32 i, struct dump_ctx *d)
{
	struct sched_proc *p;
	__u32 tgid;

	if (i >= DUMP_BATCH)
		return 1;
	tgid = d->keys[i];
	p = bpf_map_lookup_elem(&sched_procs, &tgid);
	if (p)
		p->c.dumped = d->cycle;
	return 0;
}

/* The last call writes what is left without marking it: if it runs again (buffer full), it writes the same. */
static long rest_proc(void *map, __u32 *key, struct sched_proc *p, struct dump_ctx *d)
{
	if (p->c.dumped == d->cycle)
		return 0;
	if (d->budget < sizeof(struct sched_rec) + sizeof(*p))
		return 1;
	d->budget -= sizeof(struct sched_rec) + sizeof(*p);
	write_rec(d->seq, SCHED_REC_PROC, *key, p, sizeof(*p));
	return 0;
}

static long rest_cgroup(void *map, __u64 *key, struct sched_counts *c, struct dump_ctx *d)
{
	if (c->dumped == d->cycle)
		return 0;
	if (d->budget < sizeof(struct sched_rec) + sizeof(*c))
		return 1;
	d->budget -= sizeof(struct sched_rec) + sizeof(*c);
	write_rec(d->seq, SCHED_REC_CGROUP, *key, c, sizeof(*c));
	return 0;
}

/*
 * Run by reading its pinned link right after `flush`: writes every process
 * and cgroup entry once (struct sched_rec + the entry): a process and its
 * cgroup (the one its threads were last flushed in) at the first of its
 * tasks visited; exited processes first, in batches; in the last call, what
 * no live task led to (a cgroup that holds only some threads of processes
 * whose other threads are elsewhere, too). The other tasks cost one lookup.
 */
SEC("iter/task")
int dump(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct dump_ctx d = { .seq = ctx->meta->seq, .cycle = flush_cycle, .n = dump_zero, .budget = dump_rest_bytes };
	struct sched_counts *c = NULL;
	struct sched_proc *p;
	__u64 cgid;
	__u32 tgid;

	if (!t) {
		bpf_for_each_map_elem(&sched_procs, rest_proc, &d, 0);
		bpf_for_each_map_elem(&sched_cgroups, rest_cgroup, &d, 0);
		return 0;
	}
	if (exited_pending) {
		bpf_for_each_map_elem(&sched_procs, batch_exited, &d, 0);
		if (d.failed)
			return 0;	/* not marked: this call runs again in an empty buffer */
	}
	tgid = t->tgid;
	p = bpf_map_lookup_elem(&sched_procs, &tgid);
	if (p && p->c.dumped == d.cycle)
		p = NULL;	/* written at an earlier task of its process */
	if (p) {
		if (write_rec(d.seq, SCHED_REC_PROC, tgid, p, sizeof(*p)))
			return 0;
		cgid = p->cgroup_id;
		c = bpf_map_lookup_elem(&sched_cgroups, &cgid);
		if (c && c->dumped != d.cycle && write_rec(d.seq, SCHED_REC_CGROUP, cgid, c, sizeof(*c)))
			return 0;
	}
	/* All of it fitted: mark. */
	if (p)
		p->c.dumped = d.cycle;
	if (c)
		c->dumped = d.cycle;
	bpf_loop(d.n, mark_batch, &d, 0);
	if (exited_pending) {
		if (d.n < DUMP_BATCH)
			exited_pending = 0;
		else
			__sync_fetch_and_sub(&exited_pending, d.n);
	}
	return 0;
}

/* New tasks of an observed process (threads, and children when asked) are observed from birth. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_fork, struct task_struct *parent, struct task_struct *child)
{
	struct tuner_scope *cfg = scope_config();

	if (!cfg)
		return 0;
	if (cfg->scope != SCOPE_ALL && !bpf_task_storage_get(&sched_tasks, parent, 0, 0))
		return 0;
	scope_follow_fork(parent, child);
	if (cfg->scope == SCOPE_PIDS && !task_in_scope(child))
		return 0;
	/* A new task's counters all start at zero, so zero baselines are exact. */
	bpf_task_storage_get(&sched_tasks, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	return 0;
}

/* exec of an observed process: an event (the feed shows what started in scope). */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_exec, struct task_struct *t)
{
	struct tuner_event *e;

	if (!bpf_task_storage_get(&sched_tasks, t, 0, 0))
		return 0;
	e = event_start(EV_EXEC, t);
	if (e)
		event_send(ctx, e);
	return 0;
}

/* A thread's last counts would vanish with it: flush them; mark the process gone with its last thread. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_exit, struct task_struct *t)
{
	struct sched_task *s = bpf_task_storage_get(&sched_tasks, t, 0, 0);
	struct sched_proc *p;
	__u32 tgid;

	if (!s)
		return 0;
	flush_task(t, s, flush_cycle);
	if (BPF_CORE_READ(t, signal, live.counter) == 0) {
		struct tuner_event *e = event_start(EV_EXIT, t);

		if (e)
			event_send(ctx, e);
		tgid = t->tgid;
		p = bpf_map_lookup_elem(&sched_procs, &tgid);
		if (p && !p->exited) {
			p->exited = 1;
			__sync_fetch_and_add(&exited_pending, 1);
		}
	}
	return 0;
}
