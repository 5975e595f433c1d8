/**
 * Cleanup that must run however tuner ends: normal exit, an error, SIGINT or
 * SIGTERM. Handlers are synchronous (unpinning is an unlink, restoring a knob
 * a write) so they also run from the 'exit' event. A signal first asks the
 * running command to stop (see `stopSignal`); a second signal, or a command
 * that does not stop within 5 s, runs the handlers and exits.
 */
type Handler = () => void;

const handlers = new Set<Handler>();
const controller = new AbortController();
let installed = false;

/** Register a cleanup; returns its remover. */
export function onExit(handler: Handler): () => void {
  install();
  handlers.add(handler);
  return () => handlers.delete(handler);
}

let hangup: (() => void) | undefined;

/** Make SIGHUP call `handler` (a reload) instead of stopping; returns its remover. */
export function onHangup(handler: () => void): () => void {
  install();
  hangup = handler;
  return () => {
    if (hangup === handler) hangup = undefined;
  };
}

/** Aborted on the first SIGINT/SIGTERM: long-running commands watch it and wind down. */
export const stopSignal: AbortSignal = controller.signal;

/** Run every cleanup now (idempotent: each handler runs once). */
export function runExitHandlers(): void {
  for (const h of [...handlers]) {
    handlers.delete(h);
    try {
      h();
    } catch (err) {
      process.stderr.write(`tuner: cleanup failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runExitHandlers);
  // Exit status of a process ended by a signal: 128 + its number.
  const codes = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (sig === 'SIGHUP' && hangup) return hangup();
      if (!controller.signal.aborted) {
        controller.abort(sig);
        setTimeout(() => {
          runExitHandlers();
          process.exit(codes[sig]);
        }, 5000).unref();
        return;
      }
      runExitHandlers();
      process.exit(codes[sig]);
    });
  }
}
