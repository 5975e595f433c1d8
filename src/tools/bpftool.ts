/** bpftool commands tuner uses, as typed functions over runTool. */
import { parseJson } from './json.js';
import { runTool } from './run.js';

export interface BpftoolVersion {
  version: string;
  major: number;
  minor: number;
  /** `prog loadall ... autoattach` exists from bpftool 7.2 on. */
  autoattach: boolean;
}

/** `bpftool version`, parsed; throws ToolError when bpftool is missing. */
export async function bpftoolVersion(): Promise<BpftoolVersion> {
  return parseBpftoolVersion(parseJson(await runTool('bpftool', ['-j', 'version'], { timeoutMs: 10_000 })));
}

/** The JSON output of `bpftool -j version`, parsed. */
export function parseBpftoolVersion(json: unknown): BpftoolVersion {
  const out = (json ?? {}) as { version?: string };
  const version = String(out.version ?? '');
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  const major = m ? Number(m[1]) : 0;
  const minor = m ? Number(m[2]) : 0;
  return { version, major, minor, autoattach: major > 7 || (major === 7 && minor >= 2) };
}

/**
 * The bpftool arguments that load every program of obj, attach them, pin the
 * links in progDir and the maps in mapDir; maps named in `reuse` are taken
 * from those pins instead of being created.
 */
export function loadAllArgs(obj: string, progDir: string, mapDir: string, reuse: Record<string, string> = {}): string[] {
  const maps = Object.entries(reuse).flatMap(([name, pinned]) => ['map', 'name', name, 'pinned', pinned]);
  return ['prog', 'loadall', obj, progDir, ...maps, 'autoattach', 'pinmaps', mapDir];
}

/** Bytes as bpftool `hex` words. */
export function hexWords(bytes: Uint8Array): string[] {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0'));
}
