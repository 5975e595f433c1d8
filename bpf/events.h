/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rare, compact events every object may emit into the session's perf event
 * array tuner_events (read by `bpftool map event_pipe`, decoded by
 * src/signals/events.ts). Little-endian, fixed layout, 8-byte aligned.
 */
#ifndef TUNER_EVENTS_H
#define TUNER_EVENTS_H

#define EV_RUNQ_OUTLIER 1	/* a run-queue wait above the threshold */
#define EV_FUTEX_WAIT 2		/* a futex wait above the threshold */
#define EV_IO_OUTLIER 3		/* a block request slower than the threshold */
#define EV_EXEC 4		/* a process in scope called exec */
#define EV_EXIT 5		/* a process in scope exited (its last thread) */
#define EV_TICK 6		/* end of a flush cycle: pushes buffered events out of bpftool (not reported) */

struct tuner_event {
	__u32 type;
	__u32 cpu;
	__u64 ts_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u32 pid;		/* tgid */
	__u32 tid;
	char comm[16];
	__u64 value_ns;		/* the wait or latency; 0 for exec/exit */
	/* type-specific: runq: the task that ran before it (pid, comm); futex: uaddr; io: dev, op, bytes */
	__u64 arg0;
	__u64 arg1;
	char comm2[16];
};

/* Per-object thresholds and counters of events that could not be written. */
struct tuner_event_config {
	__u64 threshold_ns;	/* 0 disables the object's outlier events */
};

#endif /* TUNER_EVENTS_H */
