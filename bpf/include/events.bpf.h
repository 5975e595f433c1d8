/* SPDX-License-Identifier: GPL-2.0 */
/* The session's event channel (see ../events.h). */
#ifndef TUNER_EVENTS_BPF_H
#define TUNER_EVENTS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "../events.h"

/* One perf ring per CPU (userspace sizes it with max_entries = possible CPUs when it creates the map). */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} tuner_events SEC(".maps");

/* Events bpf_perf_event_output could not write (ring full, no reader): per CPU, reported as lost. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tuner_ev_drops SEC(".maps");

/* Scratch for building one event (keeps it off the 512-byte stack of busy hooks). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tuner_event);
} tuner_ev_buf SEC(".maps");

static __always_inline struct tuner_event *event_start(__u32 type, struct task_struct *t)
{
	__u32 zero = 0;
	struct tuner_event *e = bpf_map_lookup_elem(&tuner_ev_buf, &zero);

	if (!e)
		return NULL;
	e->type = type;
	e->cpu = bpf_get_smp_processor_id();
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = BPF_CORE_READ(t, tgid);
	e->tid = BPF_CORE_READ(t, pid);
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), &t->comm);
	e->value_ns = 0;
	e->arg0 = 0;
	e->arg1 = 0;
	e->comm2[0] = 0;
	return e;
}

static __always_inline void event_send(void *ctx, struct tuner_event *e)
{
	__u32 zero = 0;
	__u64 *drops;

	if (bpf_perf_event_output(ctx, &tuner_events, BPF_F_CURRENT_CPU, e, sizeof(*e)) == 0)
		return;
	drops = bpf_map_lookup_elem(&tuner_ev_drops, &zero);
	if (drops)
		(*drops)++;
}

#endif /* TUNER_EVENTS_BPF_H */
