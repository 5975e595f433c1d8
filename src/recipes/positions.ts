/**
 * Line numbers for dotted paths: walk the parsed YAML document along the
 * path and report the line of the deepest node that exists (the value, or
 * the key itself for unknown keys; the parent for missing keys).
 */
import { isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import type { PathSeg } from './problems.js';

export function lineAt(doc: Document, lc: LineCounter, path: readonly PathSeg[], atKey = false): number | undefined {
  let node: unknown = doc.contents;
  let line = lineOf(node, lc);
  for (const [i, seg] of path.entries()) {
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) return line;
      if (last && atKey) return lineOf(pair.key, lc) ?? line;
      node = pair.value;
      line = lineOf(node, lc) ?? lineOf(pair.key, lc) ?? line;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      if (node === undefined) return line;
      line = lineOf(node, lc) ?? line;
    } else return line;
  }
  return line;
}

function lineOf(node: unknown, lc: LineCounter): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range ? lc.linePos(range[0]).line : undefined;
}
