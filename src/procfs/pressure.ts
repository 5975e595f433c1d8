/** PSI files: /proc/pressure/{cpu,memory,io} and cgroup v2 {cpu,memory,io}.pressure. */
import { readFileSync } from 'node:fs';

export interface PressureLine {
  avg10: number;
  avg60: number;
  avg300: number;
  /** Cumulative stall time, microseconds (can exceed 2^53 only after ~285 years). */
  total: number;
}

export interface Pressure {
  some: PressureLine;
  /** Absent for system-wide cpu on kernels before 5.13. */
  full?: PressureLine;
}

export const PSI_RESOURCES = ['cpu', 'memory', 'io'] as const;
export type PsiResource = (typeof PSI_RESOURCES)[number];

export function parsePressure(text: string): Pressure {
  const out: Partial<Pressure> = {};
  for (const line of text.split('\n')) {
    const m = /^(some|full)\s+avg10=([\d.]+)\s+avg60=([\d.]+)\s+avg300=([\d.]+)\s+total=(\d+)/.exec(line);
    if (m) out[m[1] as 'some' | 'full'] = { avg10: Number(m[2]), avg60: Number(m[3]), avg300: Number(m[4]), total: Number(m[5]) };
  }
  if (!out.some) throw new Error(`not a PSI file: ${JSON.stringify(text.slice(0, 80))}`);
  return out as Pressure;
}

/** One resource's pressure from a file; undefined when the file does not exist (PSI off, or not a v2 cgroup). */
export function readPressure(file: string): Pressure | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return parsePressure(text);
}
