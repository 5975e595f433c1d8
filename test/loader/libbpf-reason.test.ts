import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { libbpfReason } from '../../src/loader/libbpf-reason.js';

/** bpftool prog loadall stderr recorded in Debian's 6.1 and 5.10 cloud kernels (excerpts). */
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/libbpf/${name}`, import.meta.url), 'utf8');

describe('libbpfReason', () => {
  it.each([
    [
      'sched-6.1-verifier.txt',
      "prog 'sched_switch': failed to load: -22 (verifier: math between map_value pointer and register with unbounded min value is not allowed)",
    ],
    ['sched-5.10-map.txt', "map 'sched_tasks': failed to create: Invalid argument(-22)"],
    ['net_sock-5.10-btf.txt', "prog 'net_send': failed to find kernel BTF type ID of 'sock_send_length': -3"],
  ])('%s', (file, reason) => {
    expect(libbpfReason(fixture(file))).toBe(reason);
  });

  it('gives nothing for an error that names no program or map', () => {
    expect(libbpfReason('Error: bpf obj get (/sys/fs/bpf): Permission denied\n')).toBeUndefined();
  });
});
