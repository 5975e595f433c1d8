// SPDX-License-Identifier: GPL-2.0
/*
 * The dump pass of the network objects' maps (net_tcp: net_retrans,
 * net_retrans_cg; net_drop: net_drops; net_sock: net_procs), in an object of
 * its own: userspace loads it with the pins of the maps whose objects
 * loaded (the others are created here, empty) and reads its pinned link once
 * per interval. It needs bpf_for_each_map_elem (5.13), bpf_loop (5.17) and
 * bpf_map_lookup_percpu_elem (5.19), which the hooks do not: where the
 * kernel refuses this object, userspace reads the maps through bpftool.
 *
 * As in io_dump.bpf.c: the iterator visits every BPF map of the system only
 * to get called, then once more at the end. Every call writes a batch of
 * entries changed since they were last written and notes what it wrote (in
 * the net_seen_* maps: the count written, and the cycle it was first
 * written in, which userspace compares to tell a new entry from an old one)
 * once all of its output fitted; the last call writes struct net_end, and
 * every GC_EVERY cycles first removes entries unchanged for IDLE_CYCLES and
 * forgets what it wrote of entries gone (LRU eviction). The hooks are
 * untouched. A walk of a hash map visits all of its buckets, used or not
 * (net_procs: 16384): a read walks each map once when nothing changed, and
 * the collection's walks come one read in GC_EVERY.
 */
#include "include/vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "net.h"
#define NET_MAPS_TCP
#define NET_MAPS_DROP
#define NET_MAPS_SOCK
#include "net_maps.h"

char LICENSE[] SEC("license") = "GPL";

/* What the pass last wrote of an entry: its count, the cycle it was first written in, the cycle of that pass. */
struct net_seen {
	__u64 count;
	__u64 created;
	__u64 changed;
};

/* One per written entry of each map above (same sizes; plain hashes: only the pass deletes from them). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct net_peer);
	__type(value, struct net_seen);
} net_seen_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct net_seen);
} net_seen_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NET_DROP_REASONS);
	__type(key, __u32);
	__type(value, struct net_seen);
} net_seen_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct net_seen);
} net_seen_procs SEC(".maps");

/* Entries written per call: 32 records of at most 88 bytes, a tenth of the 32 KB buffer. */
#define DUMP_BATCH 32
/* An entry unchanged this many cycles after it was written is removed (a new one counts from zero). */
#define IDLE_CYCLES 30
/* The collection runs at cycles that are a multiple of this: an idle entry goes IDLE_CYCLES to IDLE_CYCLES + 7 cycles after it was written. */
#define GC_EVERY 8
/* CPUs summed per drop reason at most (bpf_map_lookup_percpu_elem fails past nr_cpu_ids, which ends the sum sooner). */
#define NET_MAX_CPUS 8192

/* Writable globals the verifier can not know (see sched.bpf.c): callback counters start from them. */
__u32 dump_zero = 0;
/* The cycle of the open pass (0: none), whether its batches found nothing left, and the last pass's cycle. */
__u64 pass_cycle;
__u32 pass_clean;
__u64 last_cycle;

/* The batch a call wrote, marked once it all fitted (globals: too large for the stack beside the callbacks' frames). */
__u32 batch_kind[DUMP_BATCH];
struct net_peer batch_key[DUMP_BATCH];
__u64 batch_count[DUMP_BATCH];
__u64 batch_created[DUMP_BATCH];

struct net_dump_ctx {
	struct seq_file *seq;
	__u64 cycle;
	__u32 n;
	__u32 failed;
	__u64 left[4];		/* entries left per map, in NET_REC_* order */
};

static __always_inline bool changed(struct net_seen *s, __u64 count)
{
	return s ? s->count != count : count != 0;
}

/* Write one entry if it changed; 1 ends the walk (batch full, or the buffer). */
static __always_inline long batch_one(struct net_dump_ctx *d, __u32 kind, const void *key, __u32 key_size, void *seen_map,
				      __u64 count, const void *v, __u32 size)
{
	struct net_seen *s = bpf_map_lookup_elem(seen_map, key);
	struct net_rec r = { .kind = kind, .size = size };
	__u32 i;

	if (!changed(s, count))
		return 0;
	if (d->n >= DUMP_BATCH)
		return 1;
	/* Fewer than written: the entry was removed and made again (an LRU eviction). */
	r.created = s && count >= s->count ? s->created : d->cycle;
	__builtin_memcpy(r.key, key, key_size);
	if (bpf_seq_write(d->seq, &r, sizeof(r)) || bpf_seq_write(d->seq, v, size)) {
		d->failed = 1;
		return 1;
	}
	i = d->n & (DUMP_BATCH - 1);
	batch_kind[i] = kind;
	__builtin_memcpy(&batch_key[i], r.key, sizeof(r.key));
	batch_count[i] = count;
	batch_created[i] = r.created;
	d->n++;
	return 0;
}

struct cpu_sum {
	__u32 key;
	__u64 sum;
};

/* Add CPU i's count of a drop reason (a bpf_loop callback). */
static long add_cpu(__u32 i, struct cpu_sum *c)
{
	__u64 *v = bpf_map_lookup_percpu_elem(&net_drops, &c->key, i);

	if (!v)
		return 1;
	c->sum += *v;
	return 0;
}

static __always_inline __u64 drop_count(__u32 key)
{
	struct cpu_sum c = { .key = key };

	bpf_loop(NET_MAX_CPUS, add_cpu, &c, 0);
	return c.sum;
}

static long batch_peer(void *map, struct net_peer *key, __u64 *v, struct net_dump_ctx *d)
{
	return batch_one(d, NET_REC_PEER, key, sizeof(*key), &net_seen_peers, *v, v, sizeof(*v));
}

static long batch_cgroup(void *map, __u64 *key, __u64 *v, struct net_dump_ctx *d)
{
	return batch_one(d, NET_REC_CGROUP, key, sizeof(*key), &net_seen_cgroups, *v, v, sizeof(*v));
}

static long batch_drop(void *map, __u32 *key, __u64 *v, struct net_dump_ctx *d)
{
	__u64 sum = drop_count(*key);

	return batch_one(d, NET_REC_DROP, key, sizeof(*key), &net_seen_drops, sum, &sum, sizeof(sum));
}

static long batch_proc(void *map, __u32 *key, struct net_proc *v, struct net_dump_ctx *d)
{
	return batch_one(d, NET_REC_PROC, key, sizeof(*key), &net_seen_procs, v->tx_calls + v->rx_calls, v, sizeof(*v));
}

/* Note the i-th entry of the batch written (a bpf_loop callback: verified once, not per iteration). */
static long mark(__u32 i, struct net_dump_ctx *d)
{
	struct net_seen s;

	if (i >= DUMP_BATCH)
		return 1;
	s.count = batch_count[i];
	s.created = batch_created[i];
	s.changed = d->cycle;
	switch (batch_kind[i]) {
	case NET_REC_PEER:
		bpf_map_update_elem(&net_seen_peers, &batch_key[i], &s, BPF_ANY);
		break;
	case NET_REC_CGROUP:
		bpf_map_update_elem(&net_seen_cgroups, &batch_key[i], &s, BPF_ANY);
		break;
	case NET_REC_DROP:
		bpf_map_update_elem(&net_seen_drops, &batch_key[i], &s, BPF_ANY);
		break;
	case NET_REC_PROC:
		bpf_map_update_elem(&net_seen_procs, &batch_key[i], &s, BPF_ANY);
		break;
	}
	return 0;
}

/* Remove an entry written and unchanged for IDLE_CYCLES (userspace forgets it a little later); count what is left. */
static __always_inline void gc_one(struct net_dump_ctx *d, void *map, void *seen_map, const void *key, __u64 count, __u32 k)
{
	struct net_seen *s = bpf_map_lookup_elem(seen_map, key);

	if (!changed(s, count) && s && s->changed + IDLE_CYCLES <= d->cycle) {
		bpf_map_delete_elem(map, key);
		bpf_map_delete_elem(seen_map, key);
		return;
	}
	d->left[k & 3]++;
}

static long gc_peer(void *map, struct net_peer *key, __u64 *v, struct net_dump_ctx *d)
{
	gc_one(d, map, &net_seen_peers, key, *v, 0);
	return 0;
}

static long gc_cgroup(void *map, __u64 *key, __u64 *v, struct net_dump_ctx *d)
{
	gc_one(d, map, &net_seen_cgroups, key, *v, 1);
	return 0;
}

static long gc_drop(void *map, __u32 *key, __u64 *v, struct net_dump_ctx *d)
{
	gc_one(d, map, &net_seen_drops, key, drop_count(*key), 2);
	return 0;
}

static long gc_proc(void *map, __u32 *key, struct net_proc *v, struct net_dump_ctx *d)
{
	gc_one(d, map, &net_seen_procs, key, v->tx_calls + v->rx_calls, 3);
	return 0;
}

/* Forget what was written of entries gone from their map (LRU eviction): a new one counts from zero. */
static long orphan_peer(void *map, struct net_peer *key, struct net_seen *s, void *d)
{
	if (!bpf_map_lookup_elem(&net_retrans, key))
		bpf_map_delete_elem(map, key);
	return 0;
}

static long orphan_cgroup(void *map, __u64 *key, struct net_seen *s, void *d)
{
	if (!bpf_map_lookup_elem(&net_retrans_cg, key))
		bpf_map_delete_elem(map, key);
	return 0;
}

static long orphan_drop(void *map, __u32 *key, struct net_seen *s, void *d)
{
	if (!bpf_map_lookup_elem(&net_drops, key))
		bpf_map_delete_elem(map, key);
	return 0;
}

static long orphan_proc(void *map, __u32 *key, struct net_seen *s, void *d)
{
	if (!bpf_map_lookup_elem(&net_procs, key))
		bpf_map_delete_elem(map, key);
	return 0;
}

SEC("iter/bpf_map")
int dump(struct bpf_iter__bpf_map *ctx)
{
	struct net_dump_ctx d = { .seq = ctx->meta->seq, .n = dump_zero };
	struct net_rec r = { .kind = NET_REC_END, .size = sizeof(struct net_end) };
	struct net_end end = {};

	if (!pass_cycle)
		pass_cycle = last_cycle + 1;
	d.cycle = pass_cycle;
	if (ctx->map) {
		if (pass_clean)
			return 0;
		bpf_for_each_map_elem(&net_procs, batch_proc, &d, 0);
		if (!d.failed && d.n < DUMP_BATCH)
			bpf_for_each_map_elem(&net_drops, batch_drop, &d, 0);
		if (!d.failed && d.n < DUMP_BATCH)
			bpf_for_each_map_elem(&net_retrans, batch_peer, &d, 0);
		if (!d.failed && d.n < DUMP_BATCH)
			bpf_for_each_map_elem(&net_retrans_cg, batch_cgroup, &d, 0);
		if (d.failed)
			return 0;	/* not marked: this call runs again in an empty buffer */
		bpf_loop(d.n, mark, &d, 0);
		if (d.n < DUMP_BATCH)
			pass_clean = 1;
		return 0;
	}
	d.left[0] = dump_zero;
	d.left[1] = dump_zero;
	d.left[2] = dump_zero;
	d.left[3] = dump_zero;
	if (pass_cycle % GC_EVERY == 0) {
		bpf_for_each_map_elem(&net_retrans, gc_peer, &d, 0);
		bpf_for_each_map_elem(&net_retrans_cg, gc_cgroup, &d, 0);
		bpf_for_each_map_elem(&net_drops, gc_drop, &d, 0);
		bpf_for_each_map_elem(&net_procs, gc_proc, &d, 0);
		bpf_for_each_map_elem(&net_seen_peers, orphan_peer, NULL, 0);
		bpf_for_each_map_elem(&net_seen_cgroups, orphan_cgroup, NULL, 0);
		bpf_for_each_map_elem(&net_seen_drops, orphan_drop, NULL, 0);
		bpf_for_each_map_elem(&net_seen_procs, orphan_proc, NULL, 0);
	}
	end.cycle = pass_cycle;
	end.more = !pass_clean;	/* a batch was full: there may be more */
	end.peers = d.left[0];
	end.cgroups = d.left[1];
	end.drops = d.left[2];
	end.procs = d.left[3];
	if (bpf_seq_write(d.seq, &r, sizeof(r)) || bpf_seq_write(d.seq, &end, sizeof(end)))
		return 0;	/* the buffer was full: this call runs again in an empty one */
	last_cycle = pass_cycle;
	pass_cycle = 0;
	pass_clean = 0;
	return 0;
}
