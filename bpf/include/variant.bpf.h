/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The compat variant of an object: bpf/<name>_compat.bpf.c defines
 * TUNER_COMPAT and includes bpf/<name>.bpf.c, so both objects come from one
 * source. Userspace loads the default object and, when the kernel refuses it,
 * the compat one (src/signals/variant.ts). The compat build avoids what
 * tracing programs only have from these kernels on (CO-RE cannot remove a map
 * type or an instruction class; bpftool's loadall cannot drop one program):
 *  - atomic fetch, compare-and-swap and exchange: v5.12 ("bpf: Add
 *    instructions for atomic_[cmp]xchg" and the BPF_FETCH series);
 *  - bpf_loop: v5.17 ("bpf: Add bpf_loop helper");
 *  - bpf_for_each_map_elem: v5.13 ("bpf: add bpf_for_each_map_elem() helper");
 *  - task local storage for tracing programs: v5.11 ("bpf: Allow using
 *    bpf_task_storage in tracing programs" and its series).
 * Plain adds (no fetch) are atomic on every kernel (BPF_XADD).
 */
#ifndef TUNER_VARIANT_BPF_H
#define TUNER_VARIANT_BPF_H

#ifdef TUNER_COMPAT
/*
 * Not atomic: a concurrent writer of the same word can be lost. Each use
 * says what that costs (a rare miscount), never a wrong pointer or a hang.
 */
#define cas(p, old, new)                       \
	({                                     \
		typeof(*(p)) __o = *(p);       \
		if (__o == (old))              \
			*(p) = (new);          \
		__o;                           \
	})
#define take_zero(p)                           \
	({                                     \
		typeof(*(p)) __v = *(p);       \
		*(p) = 0;                      \
		__v;                           \
	})
/* A loop the verifier walks (bounded by max, a constant), calling cb like bpf_loop does. */
#define loop(n, max, cb, ctx)                          \
	do {                                           \
		for (__u32 __i = 0; __i < (max); __i++) { \
			if (__i >= (n) || cb(__i, ctx)) \
				break;                 \
		}                                      \
	} while (0)
#else
#define cas(p, old, new) __sync_val_compare_and_swap(p, old, new)
#define take_zero(p) __sync_lock_test_and_set(p, 0)
#define loop(n, max, cb, ctx) bpf_loop(n, cb, ctx, 0)
#endif

#endif /* TUNER_VARIANT_BPF_H */
