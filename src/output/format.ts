/** Small number formats shared by the views. */

/** ns -> "1.23 s", "45.6 ms", "789 us", "12 ns". */
export function fmtNs(ns: number | null | undefined): string {
  if (ns === null || ns === undefined) return '-';
  const a = Math.abs(ns);
  if (a >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (a >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`;
  if (a >= 1e3) return `${(ns / 1e3).toFixed(0)} us`;
  return `${ns.toFixed(0)} ns`;
}

export function fmtUs(us: number | null | undefined): string {
  return us === null || us === undefined ? '-' : fmtNs(us * 1000);
}

export function fmtPct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? '-' : `${x.toFixed(digits)}%`;
}

/** A rate per second from a per-interval count. */
export function fmtRate(count: number, intervalMs: number): string {
  if (intervalMs <= 0) return '-';
  const r = (count * 1000) / intervalMs;
  if (r >= 1e6) return `${(r / 1e6).toFixed(1)}M/s`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(1)}k/s`;
  return `${r.toFixed(0)}/s`;
}
