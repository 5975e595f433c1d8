/** Terminal views by signal: one screen per interval, all signals of the interval in order. */
import type { AnyRecord } from '../signals/open.js';
import { renderPsi } from './psi-view.js';
import { renderSched } from './sched-view.js';

export function renderRecord(r: AnyRecord): string {
  switch (r.signal) {
    case 'sched':
      return renderSched(r);
    case 'psi':
      return renderPsi(r);
  }
}

export function renderRecords(rs: AnyRecord[]): string {
  return rs.map(renderRecord).join('\n\n');
}
