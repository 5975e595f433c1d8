/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel types tuner's programs read, declared by hand instead of a 4 MB
 * `bpftool btf dump` of one build machine's kernel. Every struct carries
 * preserve_access_index, so libbpf relocates each field access against the
 * running kernel's BTF (CO-RE): only the fields we touch are declared, their
 * order and offsets here do not matter, their types do.
 *
 * Keeping this small makes the objects reproducible: the build does not
 * depend on the kernel of the machine that compiles it.
 */
#ifndef TUNER_VMLINUX_H
#define TUNER_VMLINUX_H

#include <linux/types.h>
#include <linux/bpf.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef _Bool bool;
typedef int pid_t;
#define true 1
#define false 0

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

typedef struct {
	int counter;
} atomic_t;

struct sched_info {
	unsigned long pcount;
	unsigned long long run_delay;
	unsigned long long last_arrival;
	unsigned long long last_queued;
};

struct rq;

struct cfs_rq {
	struct rq *rq;
};

struct sched_entity {
	u64 sum_exec_runtime;
	struct cfs_rq *cfs_rq;
};

struct kernfs_node {
	u64 id;
};

struct cgroup_root;

struct cgroup {
	int level;
	struct kernfs_node *kn;
	struct cgroup_root *root;
	struct cgroup *ancestors[];
};

struct cgroup_subsys_state {
	struct cgroup *cgroup;
};

struct css_set {
	struct cgroup_subsys_state *subsys[16];
	struct cgroup *dfl_cgrp;
};

struct signal_struct {
	atomic_t live;
};

struct task_struct {
	unsigned int __state;
	int prio;
	struct sched_entity se;
	struct sched_info sched_info;
	pid_t pid;
	pid_t tgid;
	struct task_struct *group_leader;
	unsigned long nvcsw;
	unsigned long nivcsw;
	u64 start_time;
	char comm[16];
	struct css_set *cgroups;
	struct signal_struct *signal;
	unsigned int flags;
};

struct rq {
	unsigned int nr_running;
	u64 clock;
	u64 nr_switches;
	int cpu;
};

struct gendisk {
	int major;
	int first_minor;
};

struct request_queue {
	struct gendisk *disk;
};

struct request {
	struct request_queue *q;
	__u32 cmd_flags;
	unsigned int __data_len;
	u64 __sector;
	u64 start_time_ns;
};

struct in6_addr {
	u8 s6_addr[16];
};

struct sock_common {
	unsigned short skc_family;
	__be16 skc_dport;
	__be32 skc_daddr;
	struct in6_addr skc_v6_daddr;
};

struct sock_cgroup_data {
	struct cgroup *cgroup;
};

struct sock {
	struct sock_common __sk_common;
	struct sock_cgroup_data sk_cgrp_data;
};

struct sk_buff;

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	u64 session_id;
	u64 seq_num;
};

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};

struct bpf_map;

struct bpf_iter__bpf_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
};

#pragma clang attribute pop

/* Relocated by name against the running kernel (bpf_core_enum_value). */
enum cgroup_subsys_id {
	cpu_cgrp_id = 1,
};

/* Relocated by name: only whether the running kernel has it is asked (bpf_core_enum_value_exists). */
enum skb_drop_reason {
	SKB_DROP_REASON_NOT_SPECIFIED = 2,
};

#endif /* TUNER_VMLINUX_H */
