/** JSON text for records: bigints become numbers when exact, strings otherwise. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) =>
      typeof v === 'bigint'
        ? v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(v)
          : v.toString()
        : v,
    indent,
  );
}

/** One NDJSON line. */
export function toJsonLine(value: unknown): string {
  return toJson(value) + '\n';
}
