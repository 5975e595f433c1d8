/** Mount points, from /proc/self/mountinfo. */
import { readFileSync } from 'node:fs';

export interface Mount {
  /** Root of the mount within its filesystem (field 4): not "/" inside cgroup namespaces. */
  root: string;
  mountPoint: string;
  fsType: string;
  source: string;
  /** Per-superblock options (cgroup v1 controllers are listed here). */
  superOptions: string[];
}

/** Parse mountinfo text (see proc(5)); octal escapes like \040 are decoded. */
export function parseMountInfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    out.push({
      root: unescape(left[3] ?? ''),
      mountPoint: unescape(left[4] ?? ''),
      fsType: right[0] ?? '',
      source: right[1] ?? '',
      superOptions: (right[2] ?? '').split(','),
    });
  }
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function readMounts(): Mount[] {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

export function isMounted(mountPoint: string, fsType?: string): boolean {
  return readMounts().some((m) => m.mountPoint === mountPoint && (fsType === undefined || m.fsType === fsType));
}
