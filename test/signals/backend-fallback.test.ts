import { describe, expect, it } from 'vitest';
import { KernelError } from '../../src/errors.js';
import { ObjectLoadError } from '../../src/loader/instance.js';
import { coreFallback, primeBpftraceProbe } from '../../src/signals/backend.js';

primeBpftraceProbe(true); // bpftrace installed

const refused = new ObjectLoadError('sched', "libbpf: map 'sched_tasks': failed to create: Invalid argument(-22)", undefined);

describe('coreFallback', () => {
  it('auto: a refused object falls back to bpftrace, the warning naming libbpf reason', async () => {
    expect(await coreFallback('auto', 'sched', 'bpf', true, refused)).toEqual({
      warning:
        "sched: the kernel refused sched.bpf.o (libbpf: map 'sched_tasks': failed to create: Invalid argument(-22)); using the bpftrace backend",
      reason: "auto: the kernel refused sched.bpf.o (libbpf: map 'sched_tasks': failed to create: Invalid argument(-22)); bpftrace can",
    });
  });

  it.each([
    ['--backend bpf keeps the error', 'bpf', 'bpf', true, refused],
    ['a signal without a bpftrace script has nowhere to go', 'auto', 'bpf', false, refused],
    ['a bpftrace failure does not fall back', 'auto', 'bpftrace', true, refused],
    [
      'other failures (bpffs, privileges) are not hidden behind bpftrace',
      'auto',
      'bpf',
      true,
      new KernelError('bpffs is not mounted on /sys/fs/bpf'),
    ],
  ] as const)('%s', async (_what, requested, failed, hasBt, err) => {
    expect(await coreFallback(requested, 'sched', failed, hasBt, err)).toBeUndefined();
  });
});
