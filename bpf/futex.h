/* SPDX-License-Identifier: GPL-2.0 */
/* Structs and constants shared by bpf/futex*.bpf.c and src/signals/futex.ts. */
#ifndef TUNER_FUTEX_H
#define TUNER_FUTEX_H

/* Wait-duration histogram: slot k counts waits of [2^k, 2^(k+1)) ns, as in sched.h. */
#define FUTEX_SLOTS 40

struct futex_config {
	__u64 outlier_ns;	/* emit EV_FUTEX_WAIT for waits at least this long; 0: none */
	__u64 cycle;		/* set to 1 by userspace (armed), bumped by every dump pass: tags per-interval maxima; 0 (not armed yet): waits are not counted */
};

/* Per process, cumulative since `created` (a flush cycle, as in sched.h). */
struct futex_proc {
	__u64 created;
	__u64 changed;		/* the cycle of its last update */
	__u64 dumped;		/* the cycle that was live when the dump pass last wrote it (0: never) */
	__u64 waits;		/* wait calls that returned (blocked or not) */
	__u64 wait_ns;		/* time inside them */
	__u64 timeouts;		/* waits that ended with -ETIMEDOUT */
	__u64 wakes;		/* wake calls */
	__u64 woken;		/* tasks they woke (or requeued) */
	/*
	 * Longest wait that ended while the cycle was max_cycle[c & 1]: two slots,
	 * so userspace reads the finished cycle's slot while the next one fills
	 * the other (no race with waits that end during the read).
	 */
	__u64 max_wait_ns[2];
	__u64 max_cycle[2];
	__u64 cgroup_id;	/* CPU-controller cgroup of the last waiter */
	char comm[16];
	__u32 hist[FUTEX_SLOTS];
};

struct futex_addr_key {
	__u32 tgid;
	__u32 pad;
	__u64 uaddr;		/* the futex word's user address in that process */
};

/* Per futex word. */
struct futex_addr {
	__u64 created;
	__u64 changed;		/* as in struct futex_proc */
	__u64 dumped;
	__u64 waits;
	__u64 wait_ns;
	__s64 waiting;		/* threads inside a wait on it right now */
	__u64 max_waiters[2];	/* most threads waiting at once while the cycle was max_cycle[c & 1] */
	__u64 max_cycle[2];
};

/*
 * The output of futex.bpf.o's `dump` iterator: records, each a struct
 * futex_rec and then `size` bytes: a struct futex_proc (kind PROC, key tgid),
 * a struct futex_addr (kind ADDR, key tgid and uaddr), or, last, a struct
 * futex_end. Only entries changed since they were last written are written.
 */
#define FUTEX_REC_PROC 1
#define FUTEX_REC_ADDR 2
#define FUTEX_REC_END 3

struct futex_rec {
	__u32 kind;
	__u32 size;
	__u32 tgid;
	__u32 pad;
	__u64 uaddr;
};

struct futex_end {
	__u64 cycle;		/* the cycle this pass ended (per-interval maxima are read from its slot) */
	__u64 more;		/* 1: changed entries did not fit; read the iterator again */
	__u64 procs;		/* entries left in futex_procs and futex_addrs after the pass removed idle ones */
	__u64 addrs;
};

#endif /* TUNER_FUTEX_H */
