/**
 * JSON from bpftool and bpftrace without losing 64-bit precision: integer
 * literals too long to be exact doubles become strings before JSON.parse, and
 * `u64()` reads either form as a bigint.
 *
 * Only bare number tokens are rewritten (a token is preceded by `:`, `[` or
 * `,` and followed by `,`, `]` or `}`), so strings are left alone; the
 * digit-count test keeps every exact number a number.
 */
const BIG_INT_TOKEN = /([:[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g;

export function parseJson(text: string): unknown {
  const safe = text.replace(BIG_INT_TOKEN, (whole, lead: string, digits: string) =>
    Number.isSafeInteger(Number(digits)) ? whole : `${lead}"${digits}"`,
  );
  return JSON.parse(safe);
}

/** A JSON integer (number or digit string) as a bigint. */
export function u64(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw new TypeError(`expected an integer, got ${JSON.stringify(value)}`);
}

/** A JSON integer as a number; the caller knows it is small (a delta, a count per interval). */
export function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(u64(value));
}
