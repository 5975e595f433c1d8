/* SPDX-License-Identifier: GPL-2.0 */
/* The session scope maps (see ../scope.h) and the test every hook applies. */
#ifndef TUNER_SCOPE_BPF_H
#define TUNER_SCOPE_BPF_H

#include "vmlinux.h"
#include "compat.h"
#include "../scope.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tuner_scope);
} tuner_scope SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SCOPE_MAX_PIDS);
	__type(key, __u32);
	__type(value, __u8);
} tuner_pids SEC(".maps");

static __always_inline struct tuner_scope *scope_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&tuner_scope, &zero);
}

/*
 * Is task t observed? Its process id is t->tgid, a direct load from a trusted
 * pointer, or with `current` (t is the current task, maybe untrusted: see
 * current_task) the helper's; the rest of t is read with BPF_CORE_READ.
 */
static __always_inline bool scope_match(struct task_struct *t, bool current)
{
	struct tuner_scope *cfg = scope_config();
	struct cgroup *cg;
	__u32 tgid;

	if (!cfg || cfg->scope == SCOPE_ALL)
		return true;
	if (cfg->scope == SCOPE_PIDS) {
		tgid = current ? bpf_get_current_pid_tgid() >> 32 : t->tgid;
		return bpf_map_lookup_elem(&tuner_pids, &tgid) != NULL;
	}
	if (cfg->cg_hier == CG_HIER_DFL)
		cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);
	else
		cg = task_cpu_cgroup(t);
	return cgroup_ancestor_id(cg, cfg->cg_level) == cfg->cg_id;
}

/* Is task t observed? t must be a trusted BTF pointer. */
static __always_inline bool task_in_scope(struct task_struct *t)
{
	return scope_match(t, false);
}

/* Is the current task observed? On kernels without a trusted current task too (see current_task). */
static __always_inline bool current_in_scope(void)
{
	return scope_match(current_task(), true);
}

/* Under SCOPE_PIDS with follow_children, a child process of the set joins it. */
static __always_inline void scope_follow_fork(struct task_struct *parent, struct task_struct *child)
{
	struct tuner_scope *cfg = scope_config();
	__u32 ptgid, ctgid;
	__u8 one = 1;

	if (!cfg || cfg->scope != SCOPE_PIDS || !cfg->follow_children)
		return;
	ptgid = parent->tgid;
	ctgid = child->tgid;
	if (ptgid != ctgid && bpf_map_lookup_elem(&tuner_pids, &ptgid))
		bpf_map_update_elem(&tuner_pids, &ctgid, &one, BPF_ANY);
}

#endif /* TUNER_SCOPE_BPF_H */
