/** Find and remove pins that a killed tuner left behind (its owner process is gone). */
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PIN_ROOT } from './paths.js';
import { ownerAlive, parseOwnerDirName } from './owner.js';

export interface PinDir {
  dir: string;
  pid: number;
  object: string;
  alive: boolean;
}

/** Every tuner pin directory, with whether its owner still runs. */
export function listPins(): PinDir[] {
  let names: string[];
  try {
    names = readdirSync(PIN_ROOT);
  } catch {
    return [];
  }
  const out: PinDir[] = [];
  for (const name of names) {
    const owner = parseOwnerDirName(name);
    const dir = path.join(PIN_ROOT, name);
    // A directory we cannot parse is not ours to judge alive: treat as stale (only tuner writes here).
    out.push({ dir, pid: owner?.pid ?? 0, object: owner?.object ?? name, alive: owner ? ownerAlive(owner) : false });
  }
  return out;
}

/** Remove pin directories whose owner is gone (and PIN_ROOT once empty); returns what was removed. */
export function removeStalePins(): PinDir[] {
  const pins = listPins();
  const stale = pins.filter((p) => !p.alive);
  for (const p of stale) rmSync(p.dir, { recursive: true, force: true });
  if (stale.length === pins.length) removePinRootIfEmpty();
  return stale;
}

/** Remove PIN_ROOT when nothing is pinned under it. */
export function removePinRootIfEmpty(): void {
  try {
    if (readdirSync(PIN_ROOT).length === 0) rmSync(PIN_ROOT, { recursive: true, force: true });
  } catch {
    /* already gone */
  }
}
