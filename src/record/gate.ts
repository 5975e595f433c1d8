/**
 * Start a workload held at a gate: a shell waits for "go" on a private pipe
 * (fd 3), then closes it and execs the command, keeping its PID. `record`
 * puts that PID in the probes' scope (children followed) before opening the
 * gate, so nothing the workload does escapes measurement. If tuner dies
 * before opening the gate, the pipe closes without "go" and the command never
 * runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

/** Exit status of the gate when it closed without "go": the workload never ran. */
export const GATE_CLOSED = 125;

const GATE = `IFS= read -r go <&3 && [ "$go" = go ] || exit ${GATE_CLOSED}; exec 3<&-; exec "$@"`;

export interface Exit {
  /** The command's exit status, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** process.hrtime.bigint() when its exit was seen. */
  endNs: bigint;
}

export interface GatedProcess {
  pid: number;
  /** Open the gate; returns process.hrtime.bigint() of that moment. */
  release(): bigint;
  exited: Promise<Exit>;
  /** Signal the command (only the process tuner started); no-op once it has exited. */
  kill(signal?: NodeJS.Signals): void;
}

/** Where the workload's output goes: tuner's stderr (stdout stays tuner's own), or nowhere. */
export type WorkloadOutput = 'stderr' | 'ignore';

/** Resolve a command the way exec does, so a typo fails before any run (exit 2), not as run 1's exit 127. */
export function resolveCommand(command: string, envPath = process.env.PATH ?? ''): string {
  const executable = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes('/')) {
    if (executable(command)) return command;
    throw new UsageError(`record: the command ${JSON.stringify(command)} is not an executable file`);
  }
  for (const dir of envPath.split(':')) {
    const p = path.join(dir || '.', command);
    if (executable(p)) return p;
  }
  throw new UsageError(`record: command ${JSON.stringify(command)} not found in PATH`);
}

export function spawnGated(argv: readonly string[], output: WorkloadOutput): GatedProcess {
  const out = output === 'stderr' ? 2 : 'ignore';
  const child: ChildProcess = spawn('/bin/sh', ['-c', GATE, 'tuner-record', ...argv], {
    stdio: ['ignore', out, out, 'pipe'],
  });
  if (child.pid === undefined) throw new UsageError(`record: could not start /bin/sh for ${JSON.stringify(argv[0])}`);
  let done = false;
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal, endNs: process.hrtime.bigint() });
    });
  });
  const gate = child.stdio[3] as NodeJS.WritableStream & { end(): void };
  // A command that died before the gate opened closes the pipe: its exit status tells, not EPIPE.
  gate.on('error', () => {});
  return {
    pid: child.pid,
    release() {
      const t = process.hrtime.bigint();
      gate.write('go\n');
      gate.end();
      return t;
    },
    exited,
    kill(signal = 'SIGTERM') {
      if (!done) child.kill(signal);
    },
  };
}
