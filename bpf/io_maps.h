/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The maps of io.bpf.o that io_dump.bpf.o reads: defined once here for both
 * objects (io_dump loads with io's pins of them, so the definitions must
 * match). Include after io.h.
 */
#ifndef TUNER_IO_MAPS_H
#define TUNER_IO_MAPS_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct io_config);
} io_config SEC(".maps");

/* Disks: few per host; 256 leaves room for loop and device-mapper devices. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct io_dev);
} io_devs SEC(".maps");

/* Processes that do I/O; NO_PREALLOC: memory for the ones seen. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct io_proc);
} io_procs SEC(".maps");

#endif /* TUNER_IO_MAPS_H */
