/**
 * The batch framing, fed real recorded bpftool output in arbitrary chunks
 * (the process is replaced by a stub that replays the recording).
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BpftoolBatch } from '../../src/tools/batch.js';

const recorded = readFileSync(new URL('../fixtures/bpftool/batch-output.txt', import.meta.url), 'utf8');

/** Drive the private framing directly: push chunks as if they came from bpftool. */
function feed(batch: BpftoolBatch, text: string, chunk: number): void {
  const b = batch as unknown as { buf: string; drain(): void };
  for (let i = 0; i < text.length; i += chunk) {
    b.buf += text.slice(i, i + chunk);
    b.drain();
  }
}

function pending(batch: BpftoolBatch, n: number): Array<Promise<unknown>> {
  const q = (batch as unknown as { queue: unknown[] }).queue;
  return Array.from({ length: n }, () => new Promise((resolve, reject) => q.push({ argv: ['bpftool'], resolve, reject })));
}

describe('BpftoolBatch framing', () => {
  it.each([1, 7, 64, 100_000])('splits two commands answered in chunks of %i bytes', async (chunk) => {
    const batch = new BpftoolBatch();
    const [cpus, cgroups] = pending(batch, 2);
    // The recording ends with the last sentinel; add the start of a next element so it completes.
    feed(batch, recorded, chunk);
    const a = (await cpus) as Array<{ formatted: { values: unknown[] } }>;
    const b = (await cgroups) as Array<{ formatted: { key: unknown } }>;
    expect(a).toHaveLength(1);
    expect(a[0]!.formatted.values.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(b[0]!.formatted).toHaveProperty('key');
  });

  it.each([1, 3, 7, 64, 100_000])('splits the same commands received as stdout chunks of %i bytes', async (chunk) => {
    const batch = new BpftoolBatch();
    const [cpus, cgroups] = pending(batch, 2);
    const r = batch as unknown as { receive(chunk: string): void };
    const text = recorded + '{"command": ["map"';
    for (let i = 0; i < text.length; i += chunk) r.receive(text.slice(i, i + chunk));
    expect((await cpus) as unknown[]).toHaveLength(1);
    expect(((await cgroups) as unknown[]).length).toBeGreaterThan(0);
  });

  it('turns an error element into a rejected request', async () => {
    const batch = new BpftoolBatch();
    const [p] = pending(batch, 1);
    const fin = batch as unknown as { buf: string; finish(code: number, cause: unknown): void };
    fin.buf = '[{"command":["map","dump","pinned","/x"],"output":{"error":"bpf obj get (/x): No such file or directory"}}]';
    fin.finish(255, undefined);
    await expect(p).rejects.toThrow(/No such file or directory/);
  });

  it('sends the requests of one tick in one write, in order, and a later one in another', async () => {
    const writes: string[][] = [];
    const stdin = new Writable({
      writev(chunks, done) {
        writes.push(chunks.map((c) => String(c.chunk)));
        done();
      },
      write(chunk, _enc, done) {
        writes.push([String(chunk)]);
        done();
      },
    });
    const batch = new BpftoolBatch();
    (batch as unknown as { proc: unknown }).proc = { child: { stdin } };
    void batch.request(['map', 'dump', 'pinned', '/a']);
    void batch.request(['map', 'dump', 'pinned', '/b']);
    await new Promise((r) => setImmediate(r));
    void batch.request(['map', 'dump', 'pinned', '/c']);
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual([['map dump pinned /a\nversion\n', 'map dump pinned /b\nversion\n'], ['map dump pinned /c\nversion\n']]);
    (batch as unknown as { queue: unknown[] }).queue.length = 0;
  });

  it('refuses arguments that would break the batch line format', () => {
    const batch = new BpftoolBatch();
    expect(() => batch.request(['map', 'dump', 'pinned', '/a b'])).toThrow(/unsupported argument/);
    batch.close();
  });
});
