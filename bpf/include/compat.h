/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel differences handled with CO-RE flavours (the ___suffix is dropped by
 * libbpf when matching types): one object runs on old and new kernels, no
 * version compares. Each flavour cites the kernel change it bridges.
 */
#ifndef TUNER_COMPAT_H
#define TUNER_COMPAT_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* v5.14 (2f064a59a11f, "sched: Change task_struct::state") renamed state to __state. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

/* v6.1 (7f203bc89eb6, "cgroup: Replace cgroup->ancestor_ids[] with ->ancestors[]"). */
struct cgroup___pre61 {
	int level;
	u64 ancestor_ids[];
} __attribute__((preserve_access_index));

/* v5.17 (f3fa33acca9f, "block: remove the ->rq_disk field in struct request"): the disk moved to rq->q->disk. */
struct request___pre517 {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

/*
 * v5.15 ("bpf, cgroups: Fix cgroup v2 fallback on v1/v2 mixed mode") made
 * sock_cgroup_data a plain cgroup pointer; before, a union whose u64 is the
 * pointer, or, with bit 0 set, net_cls/net_prio data (the socket then counts
 * in the root cgroup, whose pointer is not stored).
 */
struct sock_cgroup_data___pre515 {
	u64 val;
} __attribute__((preserve_access_index));

struct sock___pre515 {
	struct sock_cgroup_data___pre515 sk_cgrp_data;
} __attribute__((preserve_access_index));

#define TASK_RUNNING 0

/*
 * The current task. v5.11 ("bpf: Add bpf_get_current_task_btf helper") gives
 * a trusted pointer; before, bpf_get_current_task's untrusted one: callers
 * read it through BPF_CORE_READ (probe reads) or take field addresses only.
 */
static __always_inline struct task_struct *current_task(void)
{
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf))
		return bpf_get_current_task_btf();
	return (struct task_struct *)bpf_get_current_task();
}

/* The cgroup (v2) a socket was created in; NULL when not known (see sock___pre515). */
static __always_inline struct cgroup *sock_cgroup(struct sock *sk)
{
	u64 val;

	if (bpf_core_field_exists(sk->sk_cgrp_data.cgroup))
		return BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	val = BPF_CORE_READ((struct sock___pre515 *)sk, sk_cgrp_data.val);
	return val & 1 ? NULL : (struct cgroup *)val;
}

/* t must be a trusted BTF pointer (tp_btf argument): direct loads, no probe_read in hot paths. */
static __always_inline long task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return t->__state;
	return ((struct task_struct___pre514 *)t)->state;
}

/*
 * The cgroup that holds the task's CPU controller: a cgroup v1 hierarchy on
 * hybrid hosts, the unified hierarchy on pure cgroup v2 hosts. On v1 it is the
 * css's cgroup. On v2 it is the task's own cgroup (dfl_cgrp), not the css's:
 * the css is the nearest ancestor with the controller enabled, and a subtree
 * that does not enable it would otherwise be reported (and acted on) as that
 * ancestor. Kernels without the CPU controller fall back to the default
 * hierarchy.
 */
static __always_inline struct cgroup *task_cpu_cgroup(struct task_struct *t)
{
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, cpu_cgrp_id)) {
		int id = bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id);
		struct cgroup_subsys_state *css;

		if (id < 0 || id >= 16)
			return NULL;
		css = BPF_CORE_READ(t, cgroups, subsys[id]);
		if (css) {
			struct cgroup *cg = BPF_CORE_READ(css, cgroup);
			struct cgroup *dfl = BPF_CORE_READ(t, cgroups, dfl_cgrp);

			if (dfl && BPF_CORE_READ(cg, root) == BPF_CORE_READ(dfl, root))
				return dfl;
			return cg;
		}
	}
	return BPF_CORE_READ(t, cgroups, dfl_cgrp);
}

static __always_inline u64 cgroup_id(struct cgroup *cg)
{
	return cg ? BPF_CORE_READ(cg, kn, id) : 0;
}

/* The id of cg's ancestor at `level` (cg itself when level == cg->level), 0 when cg is shallower. */
static __always_inline u64 cgroup_ancestor_id(struct cgroup *cg, int level)
{
	if (!cg || level < 0 || BPF_CORE_READ(cg, level) < level)
		return 0;
	if (bpf_core_field_exists(cg->ancestors)) {
		struct cgroup *a = BPF_CORE_READ(cg, ancestors[level]);

		return cgroup_id(a);
	}
	return BPF_CORE_READ((struct cgroup___pre61 *)cg, ancestor_ids[level]);
}

/* The whole disk a request goes to (partitions fold into it). rq must be a trusted BTF pointer. */
static __always_inline struct gendisk *request_disk(struct request *rq)
{
	if (bpf_core_field_exists(((struct request___pre517 *)rq)->rq_disk))
		return BPF_CORE_READ((struct request___pre517 *)rq, rq_disk);
	return BPF_CORE_READ(rq, q, disk);
}

/* log2 of v, floor; 0 for v <= 1. Branchy but constant time: no loops in the hot path. */
static __always_inline u32 log2_u64(u64 v)
{
	u32 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/*
 * The histogram slot of v: log2, capped at slots - 1, as a 64-bit value the
 * verifier knows is below `slots`. Without the barrier the compiler bounds
 * the 32-bit log2 with a 32-bit compare and then indexes with the 64-bit
 * register; 6.1's verifier does not carry that bound to the upper half
 * ("math between map_value pointer and register with unbounded min value"),
 * newer ones do. A 64-bit compare is bounded on every kernel.
 */
static __always_inline u64 hist_slot(u64 v, u64 slots)
{
	u64 slot = log2_u64(v);

	barrier_var(slot);
	return slot < slots ? slot : slots - 1;
}

#endif /* TUNER_COMPAT_H */
