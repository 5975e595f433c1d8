// SPDX-License-Identifier: GPL-2.0
/* net_sock.bpf.c for kernels without the sock_send_length / sock_recv_length tracepoints (before 6.4). */
#define TUNER_COMPAT 1
#include "net_sock.bpf.c"
