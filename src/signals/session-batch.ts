/**
 * One bpftool batch per session for the readers that dump maps through
 * bpftool every interval (io, net): the agent with every signal on runs one
 * such process instead of one per signal (each holds 10 to 15 MB once it
 * has read the kernel's BTF). Requests queue in order, so readers can share
 * it; the process ends when the last reader lets go.
 */
import type { Session } from '../loader/session.js';
import { BpftoolBatch } from '../tools/batch.js';

const shared = new WeakMap<Session, { batch: BpftoolBatch; users: number }>();

export interface SharedBatch {
  batch: BpftoolBatch;
  /** PIDs of the shared process (the same for every reader of the session). */
  helperPids(): number[];
  /** This reader is done with it; idempotent. */
  release(): void;
}

/** The session's shared batch (a private one when there is no session to share). */
export function sessionBatch(session: Session | undefined): SharedBatch {
  const entry = session ? shared.get(session) : undefined;
  const e = entry ?? { batch: new BpftoolBatch(), users: 0 };
  if (session && !entry) shared.set(session, e);
  e.users++;
  let released = false;
  return {
    batch: e.batch,
    helperPids: () => (e.batch.pid === undefined ? [] : [e.batch.pid]),
    release() {
      if (released) return;
      released = true;
      if (--e.users > 0) return;
      e.batch.close();
      if (session) shared.delete(session);
    },
  };
}
