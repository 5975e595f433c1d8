/**
 * The few error classes of tuner. They are caught once, in cli.ts, which
 * prints the message (no stack trace for anything but InternalError) and sets
 * process.exitCode from `exitCode`.
 */

/** Base class: a failure the user can act on. */
export class TunerError extends Error {
  readonly exitCode: number = 1;
  /** A command that fixes or diagnoses the problem, printed under the message. */
  readonly hint?: string;

  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options?.hint;
  }
}

/** Bad input: a flag, a PID, a cgroup path, a recipe. Exit code 2; nothing was applied. */
export class UsageError extends TunerError {
  override readonly exitCode = 2;
}

/** The kernel or the machine lacks something (a mount, BTF, a privilege). */
export class KernelError extends TunerError {}

/** An external tool (bpftool, bpftrace) failed: carries its argv, exit code and stderr. */
export class ToolError extends TunerError {
  readonly argv: readonly string[];
  readonly toolExitCode: number | undefined;
  readonly stderr: string;

  constructor(argv: readonly string[], details: { exitCode?: number; stderr?: string; signal?: string; cause?: unknown; hint?: string }) {
    const how =
      details.signal !== undefined
        ? `was killed by ${details.signal}`
        : details.exitCode !== undefined
          ? `exited with code ${details.exitCode}`
          : 'could not be started';
    const stderr = (details.stderr ?? '').trim();
    const last = stderr.split('\n').filter(Boolean).slice(-3).join('\n  ');
    super(`${argv.join(' ')} ${how}${last ? `:\n  ${last}` : ''}`, {
      cause: details.cause,
      hint: details.hint,
    });
    this.argv = argv;
    this.toolExitCode = details.exitCode;
    this.stderr = stderr;
  }
}

/** A bug in tuner: printed with its stack. */
export class InternalError extends TunerError {}

/** Message of any thrown value, for wrapping. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Whether commander threw this (a usage error it already printed, or --help / --version). */
function commanderCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && err.name === 'CommanderError' && typeof code === 'string' ? code : undefined;
}

/** Print an error the way its class asks (once, at the top of the CLI); return the exit code. */
export function exitCodeOf(err: unknown): number {
  const commander = commanderCode(err);
  if (commander !== undefined) {
    if (commander === 'commander.helpDisplayed' || commander === 'commander.version' || commander === 'commander.help') return 0;
    return 2; // commander already printed the message
  }
  if (err instanceof TunerError && !(err instanceof InternalError)) {
    process.stderr.write(`tuner: ${err.message}\n`);
    if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
    return err.exitCode;
  }
  process.stderr.write(`tuner: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 70;
}
