/**
 * What every CO-RE signal reader holds: the session it loads into (the
 * caller's, or a private one), the objects it loaded, and one long-lived
 * bpftool batch to read their maps. close() releases all of it once, objects
 * in reverse order of loading; a reader calls it on its own failure too.
 */
import { loadInstance, type Instance } from '../loader/instance.js';
import { openSession, type BpfScope, type Session } from '../loader/session.js';
import { BpftoolBatch } from '../tools/batch.js';
import { loadVariant } from '../loader/variant.js';

export interface BpfObjects {
  session: Session;
  batch: BpftoolBatch;
  /**
   * Load an object, in the variant the kernel takes (loader/variant.ts); maps named in `reuse` come from those
   * pins (default: the session's shared maps).
   */
  load(name: string, reuse?: Record<string, string>): Promise<Instance>;
  helperPids(): number[];
  close(): void;
}

export async function openBpfObjects(scope: BpfScope, opts: { session?: Session; preload?: string }): Promise<BpfObjects> {
  const own = !opts.session;
  const session = opts.session ?? (await openSession(scope, { preload: opts.preload }));
  const batch = new BpftoolBatch();
  const loaded: Instance[] = [];
  let closed = false;
  return {
    session,
    batch,
    async load(name, reuse = session.maps) {
      const inst =
        (reuse === session.maps ? session.takePreloaded(name) : undefined) ??
        (await loadVariant(name, (file) => loadInstance(file, { reuse })));
      if (closed) {
        inst.unload();
        throw new Error(`${name}: loaded after its reader was closed`);
      }
      loaded.push(inst);
      return inst;
    },
    helperPids: () => (batch.pid === undefined ? [] : [batch.pid]),
    close() {
      if (closed) return;
      closed = true;
      batch.close();
      for (const i of loaded.reverse()) i.unload();
      if (own) session.close();
    },
  };
}
