/**
 * The conditions of repetition r in the order they run: as listed in even
 * repetitions, reversed in odd ones, so a load that drifts over a
 * repetition does not always favour the same conditions (the warm run stays
 * right after the cold learned run, whose saved model it starts from).
 */
export function runOrder<C extends { kind: string }>(conds: readonly C[], r: number): C[] {
  if (r % 2 === 0) return [...conds];
  const reversed = [...conds].reverse().filter((c) => c.kind !== 'warm');
  const warm = conds.filter((c) => c.kind === 'warm');
  const at = reversed.findIndex((c) => c.kind === 'learned');
  return at < 0 ? [...reversed, ...warm] : [...reversed.slice(0, at + 1), ...warm, ...reversed.slice(at + 1)];
}
