/**
 * Runs once before the kernel tests: removes test cgroups that a killed
 * earlier run left behind (only `tuner-test-<pid>-*` whose pid is gone), so
 * the leftover checks of this run judge only what this run created.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { removeStaleTestCgroups } from './cgroups.js';

function cgroupMounts(): string[] {
  const root = '/sys/fs/cgroup';
  const out = [root];
  try {
    for (const e of readdirSync(root, { withFileTypes: true })) if (e.isDirectory()) out.push(path.join(root, e.name));
  } catch {
    /* no cgroup filesystem */
  }
  return out;
}

export default function setup(): void {
  const removed = removeStaleTestCgroups(cgroupMounts());
  if (removed.length) console.warn(`kernel tests: removed ${removed.length} test cgroup(s) left by a killed run: ${removed.join(', ')}`);
}
