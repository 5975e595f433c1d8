// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of the benchmark: a tp_btf program on sched_switch that does
 * nothing. Its cost per event is what attaching any program to this hook
 * costs on this machine (trampoline, and bpf_stats' own clock reads), so
 * tuner's per-switch cost is reported against it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sched_switch")
int BPF_PROG(empty_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return 0;
}
