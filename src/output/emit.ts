/**
 * The one way a command's result reaches the user: as JSON (one document, or
 * one NDJSON line per streamed item) or through its view. Streams are
 * printed item by item as they arrive; a live view redraws the screen.
 */
import { toJson, toJsonLine } from './json.js';
import { liveWriter } from './live.js';

export interface EmitOptions<T> {
  json: boolean;
  /** Indentation of a one-document JSON result (streams are always one line per item). */
  indent?: number;
  /** The text of one result or streamed item, exactly as written (undefined: nothing to show yet). Unused with json. */
  view?: (item: T) => string | undefined;
  /** Redraw one screen per item on a terminal (watch) instead of appending. */
  live?: boolean;
}

export function isStream<T>(x: T | AsyncIterable<T> | Promise<T>): x is AsyncIterable<T> {
  return typeof x === 'object' && x !== null && Symbol.asyncIterator in x;
}

export async function emit<T>(result: T | AsyncIterable<T>, o: EmitOptions<T>, out: NodeJS.WriteStream = process.stdout): Promise<void> {
  if (!isStream(result)) {
    out.write(o.json ? toJson(result, o.indent) + '\n' : (o.view?.(result) ?? ''));
    return;
  }
  const screen = o.live ? liveWriter(out) : undefined;
  for await (const item of result) {
    if (o.json) {
      out.write(toJsonLine(item));
      continue;
    }
    const text = o.view?.(item);
    if (text === undefined) continue;
    if (screen) screen.write(text);
    else out.write(text);
  }
}
