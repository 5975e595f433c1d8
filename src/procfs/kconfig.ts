/** The running kernel's build configuration, from /proc/config.gz or /boot/config-<release>. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import os from 'node:os';

export type KernelConfig = Map<string, string>;

export function parseKernelConfig(text: string): KernelConfig {
  const out: KernelConfig = new Map();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** undefined when neither source is readable. */
export function readKernelConfig(): KernelConfig | undefined {
  try {
    return parseKernelConfig(gunzipSync(readFileSync('/proc/config.gz')).toString('utf8'));
  } catch {
    /* try /boot */
  }
  try {
    return parseKernelConfig(readFileSync(`/boot/config-${os.release()}`, 'utf8'));
  } catch {
    return undefined;
  }
}
