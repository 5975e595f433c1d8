/**
 * The CO-RE objects beside the scheduler's, and what is lost, by name, on a
 * kernel that refuses one (a hook or map type it lacks): `tuner doctor`
 * loads each and reports these; the commands then run without it.
 */
export const OBJECT_LOSS = {
  futex: 'no futex (lock) waits',
  futex_wait: 'no futex_wait(2) waits (futex(2) is still observed)',
  futex_waitv: 'no futex_waitv(2) waits (futex(2) is still observed)',
  io: 'no block I/O latency per disk and process',
  net_tcp: 'no TCP retransmissions',
  net_drop: 'no packet drops',
  net_sock: 'no socket bytes per process',
} as const;

/**
 * The iterator objects that read the hook objects' maps (loaded with their pins), the hook objects
 * each reads, and what a kernel that refuses one costs: those maps are then read through bpftool JSON.
 */
export const DUMP_LOSS = {
  io_dump: {
    reads: ['io'],
    loss: 'io is read through bpftool JSON at every read (more CPU per read; the iterator needs bpf_loop, 5.17)',
  },
  net_dump: {
    reads: ['net_tcp', 'net_drop', 'net_sock'],
    loss: 'net is read through bpftool JSON at every read (more CPU per read; the iterator needs bpf_loop, 5.17, and bpf_map_lookup_percpu_elem, 5.19)',
  },
} as const satisfies Record<string, { reads: readonly OptionalObject[]; loss: string }>;

/** What the scheduler signal becomes when its object is refused under --backend auto. */
export const SCHED_FALLBACK =
  'the scheduler signal comes from bpftrace (wakeup and switch timestamps, a higher cost per switch); no run-queue outlier events';

export type OptionalObject = keyof typeof OBJECT_LOSS;

/**
 * Optional objects a compat variant of another covers: when `object` loaded as that variant, this one is
 * neither loaded nor missed (the readers skip it; `tuner doctor` says what covers it).
 */
export const COVERED_BY: Partial<Record<OptionalObject, { object: OptionalObject; variant: string; how: string }>> = {
  futex_wait: {
    object: 'futex',
    variant: 'futex_compat',
    how: 'futex_compat.bpf.o covers futex_wait(2): its raw sys_enter/sys_exit hooks see it by system call number',
  },
  futex_waitv: {
    object: 'futex',
    variant: 'futex_compat',
    how: 'futex_compat.bpf.o covers futex_waitv(2): its raw sys_enter/sys_exit hooks see it by system call number',
  },
};
