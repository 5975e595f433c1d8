/* SPDX-License-Identifier: GPL-2.0 */
/* Structs and constants shared by bpf/io.bpf.c and src/signals/io.ts. */
#ifndef TUNER_IO_H
#define TUNER_IO_H

/* Latency histograms: slot k counts [2^k, 2^(k+1)) ns, as in sched.h. */
#define IO_SLOTS 40

struct io_config {
	__u64 outlier_ns;	/* emit EV_IO_OUTLIER for requests at least this slow; 0: none */
	__u64 cycle;		/* bumped by userspace at every read: tags per-interval maxima */
};

/* Per whole disk (dev_t of the disk, MKDEV(major, first_minor) in the kernel's 12:20 encoding). */
struct io_dev {
	__u64 created;
	__u64 reads;
	__u64 writes;
	__u64 others;		/* flush, discard, ... */
	__u64 read_bytes;
	__u64 write_bytes;
	__u64 read_seq;		/* reads that started where the previous read on the disk ended */
	__u64 max_lat_ns[2];	/* slowest request completed while the cycle was max_cycle[c & 1] (two slots: see futex.h) */
	__u64 max_cycle[2];
	__u64 last_read_end;	/* sector after the last read issued (for read_seq) */
	__u32 lat[IO_SLOTS];	/* issue -> complete, every request */
	__u32 read_lat[IO_SLOTS];
	__u32 queue[IO_SLOTS];	/* insert (or allocation) -> issue */
};

/* Per submitting process. */
struct io_proc {
	__u64 created;
	__u64 ios;
	__u64 bytes;
	__u64 wait_ns;		/* queued + on the device: what the process waited for */
	__u64 cgroup_id;	/* CPU-controller cgroup when the process first submitted I/O */
	char comm[16];
};

/*
 * The output of io_dump.bpf.o's `dump` iterator: records, each a struct
 * io_rec and then `size` bytes: a struct io_dev (kind DEV, key the dev_t),
 * a struct io_proc (kind PROC, key the tgid), or, last, a struct io_end.
 * Only entries changed since they were last written are written.
 */
#define IO_REC_DEV 1
#define IO_REC_PROC 2
#define IO_REC_END 3

struct io_rec {
	__u32 kind;
	__u32 size;
	__u32 key;
	__u32 pad;
};

struct io_end {
	__u64 cycle;		/* the cycle this pass ended (per-interval maxima are read from its slot) */
	__u64 more;		/* 1: changed entries may not all have fitted; read the iterator again */
	__u64 devs;		/* entries left in io_devs and io_procs after the pass removed idle processes (0, 0: it did not collect) */
	__u64 procs;
};

#endif /* TUNER_IO_H */
