/**
 * Elements of one JSON array that arrives in pieces (bpftool's event_pipe
 * streams `[{...},{...},...` for as long as it runs). Tracks nesting and
 * strings, so it does not depend on how bpftool formats or flushes.
 */
import { parseJson } from './json.js';

export class JsonArrayStream {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private pos = 0;
  /** Elements that did not parse (counted, never dropped in silence). */
  bad = 0;

  /** Feed a chunk; returns the elements it completed. */
  push(chunk: string): unknown[] {
    this.buf += chunk;
    const out: unknown[] = [];
    for (; this.pos < this.buf.length; this.pos++) {
      const c = this.buf[this.pos];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') {
        if (this.depth === 1 && c === '{') this.start = this.pos;
        this.depth++;
      } else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth === 1 && c === '}' && this.start >= 0) {
          const text = this.buf.slice(this.start, this.pos + 1);
          try {
            out.push(parseJson(text));
          } catch {
            this.bad++;
          }
          this.start = -1;
        }
      }
    }
    // Drop what is consumed, keeping an element in progress.
    const keep = this.start >= 0 ? this.start : this.pos;
    this.buf = this.buf.slice(keep);
    this.pos -= keep;
    if (this.start >= 0) this.start = 0;
    return out;
  }
}
