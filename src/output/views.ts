/** Terminal views by signal: one screen per interval, all signals of the interval in order. */
import type { AnyRecord } from '../signals/open.js';
import { renderNuma } from './numa-view.js';
import { renderPsi } from './psi-view.js';
import { renderSched } from './sched-view.js';
import { renderFutex } from './futex-view.js';
import { renderIo } from './io-view.js';
import { renderEvents } from './events-view.js';
import { renderNet } from './net-view.js';

export function renderRecord(r: AnyRecord): string {
  switch (r.signal) {
    case 'sched':
      return renderSched(r);
    case 'psi':
      return renderPsi(r);
    case 'numa':
      return renderNuma(r);
    case 'futex':
      return renderFutex(r);
    case 'io':
      return renderIo(r);
    case 'events':
      return renderEvents(r);
    case 'net':
      return renderNet(r);
  }
}

export function renderRecords(rs: AnyRecord[]): string {
  return rs.map(renderRecord).join('\n\n');
}
