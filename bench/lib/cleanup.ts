/**
 * Cleanup that runs however the benchmark ends (done, error, Ctrl-C,
 * SIGTERM, SIGHUP): restore kernel.bpf_stats_enabled, end the processes it
 * started (by PID), remove its pins. Handlers are synchronous so they also
 * run from the 'exit' event; each runs once, newest first.
 */
type Handler = () => void;

const handlers: Handler[] = [];
let installed = false;

/** Register a cleanup; returns a function that runs it now (and unregisters it). */
export function onCleanup(handler: Handler): () => void {
  install();
  handlers.push(handler);
  return () => {
    const i = handlers.indexOf(handler);
    if (i >= 0) {
      handlers.splice(i, 1);
      handler();
    }
  };
}

export function runCleanups(): void {
  while (handlers.length > 0) {
    const h = handlers.pop()!;
    try {
      h();
    } catch (err) {
      process.stderr.write(`bench: cleanup failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runCleanups);
  const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  for (const sig of Object.keys(codes) as Array<keyof typeof codes>) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, cleaning up\n`);
      runCleanups();
      process.exit(codes[sig]);
    });
  }
}
