/** A loop block device over a sparse file in a temp dir, for I/O tests; detach() removes both. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LoopDevice {
  dev: string;
  /** e.g. loop3 */
  name: string;
  /** /sys/block/NAME/stat fields (see Documentation/block/stat.rst). */
  stat(): { readIos: number; readSectors: number; writeIos: number };
  detach(): void;
}

export function makeLoop(sizeMiB = 64): LoopDevice {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tuner-loop-'));
  const file = path.join(dir, 'disk.img');
  execFileSync('truncate', ['-s', `${sizeMiB}M`, file]);
  let dev: string;
  try {
    dev = execFileSync('losetup', ['--find', '--show', file], { encoding: 'utf8' }).trim();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const name = path.basename(dev);
  return {
    dev,
    name,
    stat() {
      const f = readFileSync(`/sys/block/${name}/stat`, 'utf8').trim().split(/\s+/).map(Number);
      return { readIos: f[0]!, readSectors: f[2]!, writeIos: f[4]! };
    },
    detach() {
      try {
        execFileSync('losetup', ['-d', dev]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
