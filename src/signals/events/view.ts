/** The terminal view of one `watch events` record: the interval's events, newest last. */
import chalk from 'chalk';
import type { EventsRecord, TunerEvent } from './bpf.js';
import { fmtUs } from '../../output/format.js';

export function describeEvent(e: TunerEvent): string {
  const who = `${e.comm}[${e.pid}${e.tid && e.tid !== e.pid ? `/${e.tid}` : ''}]`;
  switch (e.type) {
    case 'runq_outlier':
      return `run-queue wait ${fmtUs(e.value_us)} on cpu${e.cpu}: ${who}; ran before it: ${e.ran_before?.comm}[${e.ran_before?.pid}]`;
    case 'futex_wait':
      return `futex wait ${fmtUs(e.value_us)}: ${who} on ${e.uaddr}${e.ret === -110 ? ' (timed out)' : ''}`;
    case 'io_outlier':
      return `${e.op} of ${e.bytes} bytes on ${e.dev} took ${fmtUs(e.value_us)}: submitted by ${who}`;
    case 'exec':
      return `exec: ${who}`;
    case 'exit':
      return `exit: ${who}`;
  }
}

export function renderEvents(r: EventsRecord): string {
  const counts =
    Object.entries(r.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'no events';
  const lost = r.lost > 0 ? chalk.red(`  LOST ${r.lost}`) : '';
  const lines = r.events.slice(-40).map((e) => `${e.ts.slice(11, 23)}  ${describeEvent(e)}`);
  return [`${chalk.bold('events')}  ${r.ts.slice(11, 19)}  ${counts}${lost}${r.bad ? `  (${r.bad} unreadable)` : ''}`, ...lines].join('\n');
}
