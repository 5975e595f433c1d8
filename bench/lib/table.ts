/** One table, two renderings: aligned text for the terminal and GitHub markdown for bench/results.md. */

export interface Table {
  title: string;
  head: string[];
  rows: string[][];
  /** Lines printed under the table. */
  notes?: string[];
}

/** k of n as a whole percentage: "95%". */
export const pct = (k: number, n: number): string => `${Math.round((100 * k) / n)}%`;

/** A change factor as the power tables head it: 2 -> "2x", 1.25 -> "+25%". */
export const factorLabel = (f: number): string => (f >= 2 ? `${f}x` : `+${Math.round((f - 1) * 100)}%`);

/** Columns after the first are right-aligned (they hold figures). */
export function toText(t: Table): string {
  const widths = t.head.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [t.title, line(t.head), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)];
  for (const n of t.notes ?? []) out.push(`  ${n}`);
  return out.join('\n');
}

export function toMarkdown(t: Table): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [
    `### ${t.title}`,
    '',
    `| ${t.head.map(esc).join(' | ')} |`,
    `|${t.head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
  if (t.notes?.length) out.push('', ...t.notes.map((n) => `- ${n}`));
  return out.join('\n');
}
