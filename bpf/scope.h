/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scope shared by every object of a tuner session: who is observed. The maps
 * tuner_scope and tuner_pids are created once per session by userspace
 * (src/loader/session.ts) and reused by every object loaded in it, so a PID
 * set, a cgroup, or a child followed at fork is the same for every signal.
 */
#ifndef TUNER_SCOPE_H
#define TUNER_SCOPE_H

#define SCOPE_ALL 0	/* every task on the host */
#define SCOPE_PIDS 1	/* processes whose tgid is in tuner_pids */
#define SCOPE_CGROUP 2	/* tasks in the cgroup subtree cg_id (at depth cg_level) */

#define CG_HIER_CPU 0	/* cg_id names a cgroup of the CPU controller's hierarchy (v1 cpu or v2) */
#define CG_HIER_DFL 1	/* cg_id names a cgroup of the unified (v2) hierarchy */

/* PID sets are typed by people and scripts, or grow by fork under `record`: 8192 is plenty. */
#define SCOPE_MAX_PIDS 8192

struct tuner_scope {
	__u32 scope;
	__u32 follow_children;	/* SCOPE_PIDS: processes the set forks join it */
	__u32 cg_hier;
	__u32 cg_level;
	__u64 cg_id;
};

#endif /* TUNER_SCOPE_H */
