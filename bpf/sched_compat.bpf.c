// SPDX-License-Identifier: GPL-2.0
/* sched.bpf.c for kernels that refuse it (before 5.11-5.17): see include/variant.bpf.h. */
#define TUNER_COMPAT 1
#include "sched.bpf.c"
