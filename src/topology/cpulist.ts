/** The kernel's CPU and node list format ("0-3,8,10-11"), both ways. */

/** "0-3,8" -> [0, 1, 2, 3, 8] (sorted, deduplicated). Throws on malformed text. */
export function parseCpuList(text: string): number[] {
  const out = new Set<number>();
  const s = text.trim();
  if (s === '') return [];
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 65_536) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** [0, 1, 2, 3, 8] -> "0-3,8": the canonical form the kernel prints. */
export function formatCpuList(cpus: Iterable<number>): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The same list in canonical form, or the text unchanged when it is not a list. */
export function canonicalCpuList(text: string): string {
  try {
    return formatCpuList(parseCpuList(text));
  } catch {
    return text.trim();
  }
}
