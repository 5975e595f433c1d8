/**
 * The agent's structured log: one JSON object per line on stdout (pino), so
 * journald and container runtimes keep it as it is. Every decision, skip,
 * refusal, yield, error and notice of every recipe goes through here.
 */
import { pino, type Logger } from 'pino';
import type { RunEvent } from '../engine/events.js';

export type { Logger };

export function agentLogger(level: string, destination: NodeJS.WritableStream | number = 1): Logger {
  return pino(
    {
      level,
      base: { name: 'tuner-agent' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination,
  );
}

/** Log one engine event at a level that matches what happened. */
export function logEvent(log: Logger, ev: RunEvent): void {
  const { type, ts: _ts, ...rest } = ev as RunEvent & { ts?: string };
  const level = type === 'error' ? 'error' : type === 'yield' || type === 'refused' ? 'warn' : type === 'skip' ? 'debug' : 'info';
  const msg =
    'reason' in ev && typeof ev.reason === 'string' ? ev.reason : 'message' in ev && typeof ev.message === 'string' ? ev.message : type;
  log[level]({ event: type, ...rest }, msg);
}
