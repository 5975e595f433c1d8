/* SPDX-License-Identifier: GPL-2.0 */
/* Structs and constants shared by bpf/sched.bpf.c and src/signals/sched.ts. */
#ifndef TUNER_SCHED_H
#define TUNER_SCHED_H

/*
 * Run-queue wait histogram: slot k counts waits of [2^k, 2^(k+1)) ns (slot 0
 * also holds 0 and 1 ns). 40 slots reach 2^40 ns, about 18 minutes: no real
 * run-queue wait is longer, and the top slot absorbs anything that is.
 * Counts are u32 to halve what every map read moves; userspace takes deltas
 * modulo 2^32, exact while fewer than 4 billion waits fall in one interval.
 */
#define SCHED_SLOTS 40

/* Per-object settings; the scope is shared by the session (scope.h). */
struct sched_config {
	__u64 outlier_ns;	/* emit EV_RUNQ_OUTLIER for waits at least this long; 0: none */
};

/*
 * Per process (tgid) or per CPU-controller cgroup, cumulative since the entry
 * was created; userspace turns them into per-interval figures by difference.
 * oncpu, run_delay, timeslices and the switch counts are the kernel's own
 * per-task accounting (se.sum_exec_runtime, sched_info, nvcsw/nivcsw) summed
 * over threads; waits, wait_ns and the histograms are measured by this
 * program at each switch.
 *
 * `created` and `active` are flush cycles (see flush_cycle): an entry with no
 * activity for a whole cycle is deleted at the end of the next one, so a map
 * read moves only what is alive. A re-created entry has a new `created`.
 */
struct sched_counts {
	__u64 created;
	__u64 active;
	__u64 dumped;		/* the dump pass that last wrote this entry (see struct sched_rec) */
	__u64 oncpu_ns;
	__u64 run_delay_ns;
	__u64 timeslices;
	__u64 nvcsw;
	__u64 nivcsw;
	__u64 waits;
	__u64 wait_ns;
	__u32 hist_wakeup[SCHED_SLOTS];		/* waits that followed a wakeup */
	__u32 hist_preempt[SCHED_SLOTS];	/* waits that followed a preemption (or yield) */
};

struct sched_hist_mask {
	__u64 wakeup;		/* bit k: hist_wakeup[k] is non-zero (and, in a record, written) */
	__u64 preempt;		/* bit k: hist_preempt[k] */
};

struct sched_proc {
	__u64 cgroup_id;	/* CPU-controller cgroup of the last thread flushed */
	__u64 max_wait_ns;	/* longest wait flushed during cycle max_cycle */
	__u64 max_cycle;
	__u64 threads_cycle;
	__u32 threads;		/* threads flushed during cycle threads_cycle */
	__u32 exited;		/* the last thread exited */
	char comm[16];
	struct sched_counts c;
	/* The slots of c's histograms that are non-zero, so a dump reads only those (the compat variant keeps none). */
	struct sched_hist_mask nonzero;
};

/*
 * What the `dump` iterator writes, read from its pinned link right after
 * each flush: records of this header followed by the entry exactly as it is
 * stored in its map. `size` is the entry's size, so a reader built for
 * another layout fails instead of misreading.
 */
#define SCHED_REC_PROC 1	/* key: the tgid; then struct sched_proc */
#define SCHED_REC_CGROUP 2	/* key: the cgroup id; then struct sched_counts */
#define SCHED_REC_CPU 3		/* key: the CPU; then struct sched_cpu */
/*
 * key: the tgid; then struct sched_proc up to its histograms (the first
 * SCHED_PROC_HEAD bytes), struct sched_hist_mask, and the non-zero slots of
 * hist_wakeup then hist_preempt, in slot order, as u32, padded with a zero
 * to a multiple of 8 bytes. Most slots are zero (a process that ran once
 * has one non-zero slot): about a third of the bytes of SCHED_REC_PROC.
 * The compat variant writes SCHED_REC_PROC.
 */
#define SCHED_REC_PROC_SPARSE 4
#define SCHED_PROC_HEAD 136	/* offsetof(struct sched_proc, c.hist_wakeup) */

struct sched_rec {
	__u32 kind;
	__u32 size;
	__u64 key;
};

/*
 * Per CPU. switches: the run queue's own count (rq->nr_switches, since boot),
 * copied at each flush. wait_ns: since load, the waits that ended on this CPU
 * (every task: scope does not apply); divided by the interval, the mean
 * number of waiting tasks (Little's law).
 */
struct sched_cpu {
	__u64 switches;
	__u64 wait_ns;
	__u64 dumped;	/* the dump pass that last wrote this CPU's record */
};

#endif /* TUNER_SCHED_H */
