// SPDX-License-Identifier: GPL-2.0
/*
 * The dump pass of io.bpf.o's maps, in an object of its own: userspace loads
 * it with io's io_config, io_devs and io_procs (pins passed at load) and
 * reads its pinned link once per interval. It needs bpf_for_each_map_elem
 * (5.13) and bpf_loop (5.17), which io.bpf.o does not: where the kernel
 * refuses this object, userspace reads the maps through bpftool instead.
 *
 * The iterator visits every BPF map of the system (only to get called: the
 * map itself is not looked at), then calls once more at the end. The first
 * call ends the cycle (bumps io_config.cycle, which tags per-interval
 * maxima); every call writes a batch of entries changed since they were
 * last written and notes what it wrote (in io_seen_devs / io_seen_procs)
 * once all of its output fitted (seq_file runs a call again in an empty
 * 32 KB buffer when it did not); the last call writes struct io_end, saying
 * whether changed entries may be left for another pass, and every GC_EVERY
 * cycles first removes processes idle for IDLE_CYCLES. The hooks of io.bpf.o
 * are untouched: an entry has changed when its request count differs from
 * the one last written. A walk of a hash map visits all of its buckets
 * (io_procs: 16384), used or not: a read walks each map once when nothing
 * changed, and the collection's walk comes one read in GC_EVERY.
 */
#include "include/vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "io.h"
#include "io_maps.h"

char LICENSE[] SEC("license") = "GPL";

/* What the pass last wrote of an entry: its request count, and the cycle of that pass. */
struct io_seen {
	__u64 count;
	__u64 changed;
};

/* One per entry of io_devs and io_procs that was written (same sizes). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct io_seen);
} io_seen_devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct io_seen);
} io_seen_procs SEC(".maps");

/* Entries written per call: 16 disks (16 x 592 bytes) at most, under a third of the 32 KB buffer. */
#define DUMP_BATCH 16
/*
 * A process entry unchanged this many cycles after it was written is removed
 * (its next request makes a new one, counted from zero): a read costs the
 * processes active lately, not every one seen. Disks stay.
 */
#define IDLE_CYCLES 30
/* The collection runs at cycles that are a multiple of this: an idle entry goes IDLE_CYCLES to IDLE_CYCLES + 7 cycles after it was written. */
#define GC_EVERY 8

/* Writable globals the verifier can not know (see sched.bpf.c): callback counters start from them. */
__u32 dump_zero = 0;
/* The cycle the open pass ended (0: no pass open), and whether its batches found nothing left. */
__u64 pass_cycle;
__u32 pass_clean;

struct io_dump_ctx {
	struct seq_file *seq;
	__u64 cycle;		/* the cycle the pass ended */
	__u32 n;
	__u32 failed;
	__u32 kinds[DUMP_BATCH];
	__u32 keys[DUMP_BATCH];
	__u64 counts[DUMP_BATCH];
	__u64 devs;
	__u64 procs;
};

static __always_inline __u64 dev_count(struct io_dev *v)
{
	return v->reads + v->writes + v->others;
}

/* Changed since it was last written (an entry never written: once it counted a request). */
static __always_inline bool changed(struct io_seen *s, __u64 count)
{
	return s ? s->count != count : count != 0;
}

static __always_inline int write_rec(struct io_dump_ctx *d, __u32 kind, __u32 key, void *v, __u32 size, __u64 count)
{
	struct io_rec r = { .kind = kind, .size = size, .key = key };

	if (d->n >= DUMP_BATCH)
		return 1;
	if (bpf_seq_write(d->seq, &r, sizeof(r)) || bpf_seq_write(d->seq, v, size)) {
		d->failed = 1;
		return 1;
	}
	d->kinds[d->n & (DUMP_BATCH - 1)] = kind;
	d->keys[d->n & (DUMP_BATCH - 1)] = key;
	d->counts[d->n & (DUMP_BATCH - 1)] = count;
	d->n++;
	return 0;
}

static long batch_dev(void *map, __u32 *key, struct io_dev *v, struct io_dump_ctx *d)
{
	__u64 count = dev_count(v);

	if (!changed(bpf_map_lookup_elem(&io_seen_devs, key), count))
		return 0;
	return write_rec(d, IO_REC_DEV, *key, v, sizeof(*v), count);
}

static long batch_proc(void *map, __u32 *key, struct io_proc *v, struct io_dump_ctx *d)
{
	__u64 count = v->ios;

	if (!changed(bpf_map_lookup_elem(&io_seen_procs, key), count))
		return 0;
	return write_rec(d, IO_REC_PROC, *key, v, sizeof(*v), count);
}

/* Note the i-th entry of the batch written (a bpf_loop callback: verified once, not per iteration). */
static long mark(__u32 i, struct io_dump_ctx *d)
{
	struct io_seen s;
	__u32 key;

	if (i >= DUMP_BATCH)
		return 1;
	key = d->keys[i];
	s.count = d->counts[i];
	s.changed = d->cycle;
	if (d->kinds[i] == IO_REC_DEV)
		bpf_map_update_elem(&io_seen_devs, &key, &s, BPF_ANY);
	else
		bpf_map_update_elem(&io_seen_procs, &key, &s, BPF_ANY);
	return 0;
}

/*
 * Remove a process entry written and unchanged for IDLE_CYCLES (userspace
 * forgets it later), or never written (no request completed) and that old;
 * count what is left.
 */
static long gc_proc(void *map, __u32 *key, struct io_proc *v, struct io_dump_ctx *d)
{
	struct io_seen *s = bpf_map_lookup_elem(&io_seen_procs, key);

	if (!changed(s, v->ios) && (s ? s->changed + IDLE_CYCLES <= d->cycle : v->created + IDLE_CYCLES <= d->cycle)) {
		bpf_map_delete_elem(map, key);
		bpf_map_delete_elem(&io_seen_procs, key);
	} else {
		d->procs++;
	}
	return 0;
}

static long count_dev(void *map, __u32 *key, struct io_dev *v, struct io_dump_ctx *d)
{
	d->devs++;
	return 0;
}

SEC("iter/bpf_map")
int dump(struct bpf_iter__bpf_map *ctx)
{
	struct io_dump_ctx d = { .seq = ctx->meta->seq, .n = dump_zero, .devs = dump_zero, .procs = dump_zero };
	struct io_end end = {};
	struct io_config *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&io_config, &zero);
	if (!cfg || !cfg->cycle)
		return 0;	/* not armed */
	if (!pass_cycle) {
		pass_cycle = cfg->cycle;
		cfg->cycle = pass_cycle + 1;
	}
	d.cycle = pass_cycle;
	if (ctx->map) {
		if (pass_clean)
			return 0;
		bpf_for_each_map_elem(&io_devs, batch_dev, &d, 0);
		if (!d.failed && d.n < DUMP_BATCH)
			bpf_for_each_map_elem(&io_procs, batch_proc, &d, 0);
		if (d.failed)
			return 0;	/* not marked: this call runs again in an empty buffer */
		bpf_loop(d.n, mark, &d, 0);
		if (d.n < DUMP_BATCH)
			pass_clean = 1;
		return 0;
	}
	if (pass_cycle % GC_EVERY == 0) {
		bpf_for_each_map_elem(&io_procs, gc_proc, &d, 0);
		bpf_for_each_map_elem(&io_devs, count_dev, &d, 0);
	}
	end.cycle = pass_cycle;
	end.more = !pass_clean;	/* a batch was full: there may be more */
	end.devs = d.devs;
	end.procs = d.procs;
	if (bpf_seq_write(d.seq, &(struct io_rec){ .kind = IO_REC_END, .size = sizeof(end) }, sizeof(struct io_rec)) ||
	    bpf_seq_write(d.seq, &end, sizeof(end)))
		return 0;	/* the buffer was full: this call runs again in an empty one */
	pass_cycle = 0;
	pass_clean = 0;
	return 0;
}
