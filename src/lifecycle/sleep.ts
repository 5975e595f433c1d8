/** Sleep that ends early (resolving false) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      },
      Math.max(0, ms),
    );
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Ticks at start + k * interval (no drift), ending after `count` ticks or at
 * `durationMs` (the last tick then closes a shorter interval), or on abort.
 */
export async function* ticks(opts: {
  intervalMs: number;
  count?: number;
  durationMs?: number;
  signal?: AbortSignal;
}): AsyncGenerator<number> {
  const start = Date.now();
  const end = opts.durationMs === undefined ? Infinity : start + opts.durationMs;
  for (let k = 1; opts.count === undefined || k <= opts.count; k++) {
    const due = Math.min(start + k * opts.intervalMs, end);
    if (!(await sleep(due - Date.now(), opts.signal))) return;
    yield k;
    if (due >= end) return;
  }
}
