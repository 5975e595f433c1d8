/**
 * The profile file `record` writes and `compare` reads: the environment, the
 * command, and one summary per run. One schema both documents the format and
 * checks files on the way in; anything else is refused with the reason.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TunerError } from '../errors.js';
import type { Environment } from './env.js';
import type { MetricInfo } from './metrics.js';
import type { RunResult } from './run.js';

export const PROFILE_FORMAT = 'tuner-profile';
export const PROFILE_VERSION = 1;

export interface WarmupResult {
  run: number;
  exit_code: number | null;
  signal: string | null;
  wall_ns: number;
}

/** How a profile of `record --alternate` was recorded: with which partner, run by run. */
export interface Alternation {
  /** The same in both profiles of one recording. */
  id: string;
  /** base: the command before `::` (-o); new: the one after it (--alternate). */
  side: 'base' | 'new';
  /** The other profile's file, as given to record, and its command. */
  partner: string;
  partner_command: string[];
  /** Pairs of runs, each pair in this order (ABBA: BASE first in odd pairs, NEW first in even ones). */
  order: 'ABBA';
}

export interface Profile {
  format: typeof PROFILE_FORMAT;
  version: typeof PROFILE_VERSION;
  /** Every run exited 0 and all requested runs were made. */
  ok: boolean;
  env: Environment;
  command: string[];
  signals: string[];
  repeat: number;
  warmup: number;
  started: string;
  finished: string;
  /** Label, unit and floor of every metric in the runs. */
  metrics: Record<string, MetricInfo>;
  warmups: WarmupResult[];
  runs: RunResult[];
  /** Present when recorded with `--alternate`. */
  alternated?: Alternation;
}

/** A profile that cannot be compared: unreadable, not a profile, or from failed runs. Exit status 2. */
export class ProfileError extends TunerError {
  override readonly exitCode = 2;
}

const metricValue = z.number().nullable();

const schema = z.object({
  format: z.literal(PROFILE_FORMAT),
  version: z.literal(PROFILE_VERSION),
  ok: z.boolean(),
  env: z.object({
    kernel: z.string(),
    kernel_build: z.string(),
    arch: z.string(),
    cpus: z.number().int().positive(),
    cpu_model: z.string(),
    memory_bytes: z.number(),
    tool: z.object({ name: z.string(), version: z.string() }),
    node: z.string(),
    hostname: z.string(),
    date: z.string(),
  }),
  command: z.array(z.string()).min(1),
  signals: z.array(z.string()),
  repeat: z.number().int().positive(),
  warmup: z.number().int().nonnegative(),
  started: z.string(),
  finished: z.string(),
  metrics: z.record(
    z.string(),
    z.object({ label: z.string(), unit: z.enum(['ns', 'us', 'count', 'bytes']), floor: z.number().nonnegative() }),
  ),
  alternated: z
    .object({
      id: z.string().min(1),
      side: z.enum(['base', 'new']),
      partner: z.string(),
      partner_command: z.array(z.string()).min(1),
      order: z.literal('ABBA'),
    })
    .optional(),
  warmups: z.array(z.object({ run: z.number(), exit_code: z.number().nullable(), signal: z.string().nullable(), wall_ns: z.number() })),
  runs: z.array(
    z.object({
      run: z.number().int().positive(),
      started: z.string(),
      exit_code: z.number().int().nullable(),
      signal: z.string().nullable(),
      timed_out: z.boolean().optional(),
      metrics: z.record(z.string(), metricValue),
      details: z.record(z.string(), z.unknown()),
      warnings: z.array(z.string()),
    }),
  ),
});

/** Check a parsed JSON value; `what` names it in messages (BASE, NEW, a path). */
export function parseProfile(value: unknown, what: string): Profile {
  const head = value as { format?: unknown; version?: unknown } | null;
  if (!head || typeof head !== 'object' || head.format !== PROFILE_FORMAT) {
    throw new ProfileError(`${what}: not a tuner profile (expected "format": "${PROFILE_FORMAT}", written by \`tuner record\`)`);
  }
  if (head.version !== PROFILE_VERSION) {
    throw new ProfileError(
      `${what}: profile format version ${JSON.stringify(head.version)} is not supported (this tuner reads version ${PROFILE_VERSION})`,
    );
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ProfileError(`${what}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data as Profile;
}

export function readProfile(path: string): Profile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ProfileError(`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ProfileError(`${path}: not JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return parseProfile(value, path);
}
