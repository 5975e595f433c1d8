// SPDX-License-Identifier: GPL-2.0
/*
 * Block I/O per disk and per submitting process: request latency (issue to
 * complete) and queue time (insert, or allocation, to issue) histograms,
 * operations, bytes, and how sequential the reads are. Requests are followed
 * from insert/issue to completion in a hash keyed by the request; the
 * submitter is the task current at insert or issue (asynchronous writeback
 * is charged to the flusher thread, as with biotop).
 */
#include "include/vmlinux.h"
#include "include/compat.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "include/scope.bpf.h"
#include "include/events.bpf.h"
#include "io.h"
#include "io_maps.h"

char LICENSE[] SEC("license") = "GPL";

/* include/linux/blk_types.h: the operation is the low 8 bits of cmd_flags. */
#define REQ_OP_MASK 0xff
#define REQ_OP_READ 0
#define REQ_OP_WRITE 1
#define SECTOR_SHIFT 9
/* dev_t as the kernel encodes it (MINORBITS 20). */
#define MKDEV(ma, mi) (((__u32)(ma) << 20) | (__u32)(mi))

struct io_inflight {
	__u64 insert_ns;
	__u64 issue_ns;
	__u32 tgid;
	__u32 seq;
};

/*
 * Requests between insert/issue and completion: queue depth times disks, with
 * room. LRU, so a request whose end we never see (a path without a
 * tracepoint) ages out instead of filling the map.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct io_inflight);
} io_inflight SEC(".maps");


/* Template for a new disk entry (too large for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct io_dev);
} io_scratch SEC(".maps");

static __always_inline struct io_config *io_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&io_config, &zero);
}

/*
 * The submitter's entry, created with its name and cgroup the first time it
 * submits: those are read once per process, not on every request.
 */
static __always_inline void ensure_proc(struct task_struct *t, __u32 tgid)
{
	struct io_config *cfg;
	struct io_proc init = {};

	if (bpf_map_lookup_elem(&io_procs, &tgid))
		return;
	cfg = io_cfg();
	init.created = cfg ? cfg->cycle : 0;
	init.cgroup_id = cgroup_id(task_cpu_cgroup(t));
	bpf_probe_read_kernel_str(init.comm, sizeof(init.comm), BPF_CORE_READ(t, group_leader)->comm);
	bpf_map_update_elem(&io_procs, &tgid, &init, BPF_NOEXIST);
}

/* First sight of a request (insert, or issue when the scheduler is bypassed): note who submitted it. */
static __always_inline struct io_inflight *track(struct request *rq, bool at_insert)
{
	struct task_struct *t = current_task();
	__u64 key = (__u64)rq;
	struct io_inflight *f = bpf_map_lookup_elem(&io_inflight, &key), init = {};

	if (f)
		return f;
	if (!current_in_scope())
		return NULL;
	init.insert_ns = at_insert ? bpf_ktime_get_ns() : BPF_CORE_READ(rq, start_time_ns);
	init.tgid = bpf_get_current_pid_tgid() >> 32;
	ensure_proc(t, init.tgid);
	bpf_map_update_elem(&io_inflight, &key, &init, BPF_ANY);
	return bpf_map_lookup_elem(&io_inflight, &key);
}

static __always_inline struct io_dev *dev_of(struct request *rq, struct io_config *cfg, __u32 *devp)
{
	struct gendisk *disk = request_disk(rq);
	struct io_dev *d, *tmpl;
	__u32 dev, zero = 0;

	if (!disk)
		return NULL;
	dev = MKDEV(BPF_CORE_READ(disk, major), BPF_CORE_READ(disk, first_minor));
	*devp = dev;
	d = bpf_map_lookup_elem(&io_devs, &dev);
	if (d)
		return d;
	tmpl = bpf_map_lookup_elem(&io_scratch, &zero);
	if (!tmpl)
		return NULL;
	__builtin_memset(tmpl, 0, sizeof(*tmpl));
	tmpl->created = cfg->cycle;
	bpf_map_update_elem(&io_devs, &dev, tmpl, BPF_NOEXIST);
	return bpf_map_lookup_elem(&io_devs, &dev);
}

SEC("tp_btf/block_rq_insert")
int BPF_PROG(io_insert, struct request *rq)
{
	track(rq, true);
	return 0;
}

/* Merged into another request: it will never complete on its own. */
SEC("tp_btf/block_rq_merge")
int BPF_PROG(io_merge, struct request *rq)
{
	__u64 key = (__u64)rq;

	bpf_map_delete_elem(&io_inflight, &key);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(io_issue, struct request *rq)
{
	struct io_config *cfg = io_cfg();
	struct io_inflight *f;
	struct io_dev *d;
	__u64 sector;
	__u32 dev;

	if (!cfg)
		return 0;
	f = track(rq, false);
	if (!f)
		return 0;
	f->issue_ns = bpf_ktime_get_ns();
	if ((rq->cmd_flags & REQ_OP_MASK) != REQ_OP_READ)
		return 0;
	d = dev_of(rq, cfg, &dev);
	if (!d)
		return 0;
	sector = rq->__sector;
	f->seq = sector == d->last_read_end;
	d->last_read_end = sector + (rq->__data_len >> SECTOR_SHIFT);
	return 0;
}

static __always_inline void hist_add(__u32 *h, __u64 v)
{
	__sync_fetch_and_add(&h[hist_slot(v, IO_SLOTS)], 1);
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(io_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	struct io_config *cfg = io_cfg();
	__u64 key = (__u64)rq, now = bpf_ktime_get_ns(), lat, waited;
	struct io_inflight *f;
	struct io_proc *p;
	struct io_dev *d;
	__u32 op, dev = 0;

	f = bpf_map_lookup_elem(&io_inflight, &key);
	if (!f || !cfg)
		return 0;
	/* A request can complete in pieces: count it when its last bytes are done (rq->__data_len reaches nr_bytes). */
	if (rq->__data_len > nr_bytes)
		return 0;
	if (!f->issue_ns)
		goto out;
	lat = now - f->issue_ns;
	waited = f->insert_ns && f->insert_ns < f->issue_ns ? now - f->insert_ns : lat;
	op = rq->cmd_flags & REQ_OP_MASK;

	d = dev_of(rq, cfg, &dev);
	if (d) {
		if (op == REQ_OP_READ) {
			__sync_fetch_and_add(&d->reads, 1);
			__sync_fetch_and_add(&d->read_bytes, nr_bytes);
			if (f->seq)
				__sync_fetch_and_add(&d->read_seq, 1);
			hist_add(d->read_lat, lat);
		} else if (op == REQ_OP_WRITE) {
			__sync_fetch_and_add(&d->writes, 1);
			__sync_fetch_and_add(&d->write_bytes, nr_bytes);
		} else {
			__sync_fetch_and_add(&d->others, 1);
		}
		hist_add(d->lat, lat);
		if (f->insert_ns && f->insert_ns < f->issue_ns)
			hist_add(d->queue, f->issue_ns - f->insert_ns);
		op = cfg->cycle & 1;
		if (d->max_cycle[op] != cfg->cycle) {
			d->max_cycle[op] = cfg->cycle;
			d->max_lat_ns[op] = 0;
		}
		if (lat > d->max_lat_ns[op])
			d->max_lat_ns[op] = lat;
		op = rq->cmd_flags & REQ_OP_MASK;
	}

	p = bpf_map_lookup_elem(&io_procs, &f->tgid);
	if (p) {
		__sync_fetch_and_add(&p->ios, 1);
		__sync_fetch_and_add(&p->bytes, nr_bytes);
		__sync_fetch_and_add(&p->wait_ns, waited);
	}

	if (cfg->outlier_ns && lat >= cfg->outlier_ns) {
		struct tuner_event *e = event_start(EV_IO_OUTLIER, current_task());

		if (e) {
			/* The completing context is often an interrupt: name the submitter instead. */
			e->pid = f->tgid;
			e->tid = 0;
			if (p)
				__builtin_memcpy(e->comm, p->comm, sizeof(e->comm));
			e->value_ns = lat;
			e->arg0 = dev;
			e->arg1 = ((__u64)op << 32) | nr_bytes;
			event_send(ctx, e);
		}
	}
out:
	bpf_map_delete_elem(&io_inflight, &key);
	return 0;
}
