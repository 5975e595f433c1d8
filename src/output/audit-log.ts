/**
 * The audit log: NDJSON, one record per decision (and per yield or refusal),
 * appended and flushed as they happen so a crash loses nothing already
 * decided. Record fields: ts, recipe, detector, evidence, action, target,
 * knob, old, new, applied, reverted (plus type, kind and reason).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { RunEvent } from '../engine/events.js';
import { toJsonLine } from './json.js';

export interface AuditLog {
  write(e: RunEvent): void;
  close(): void;
}

export function openAuditLog(file: string): AuditLog {
  let fd: number;
  try {
    fd = openSync(file, 'a', 0o600);
  } catch (err) {
    throw new UsageError(`--audit-log ${file}: cannot open it for appending (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return {
    write(e) {
      if (e.type === 'decision' || e.type === 'yield' || e.type === 'refused') writeSync(fd, toJsonLine(e));
    },
    close() {
      closeSync(fd);
    },
  };
}
