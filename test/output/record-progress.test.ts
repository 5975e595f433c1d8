/**
 * record's progress line: which run of how many, and the time left, on a
 * terminal; nothing otherwise. Checked with a stream that says it is a TTY
 * or not, and with a real pseudo-terminal (util-linux `script`) around node,
 * whose stderr is then a TTY, against the same program with stderr a pipe.
 */
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fmtLeft, RecordProgress } from '../../src/output/record-progress.js';

function stream(isTTY: boolean) {
  const out: string[] = [];
  return { isTTY, out, write: (t: string) => (out.push(t), true) };
}

describe('RecordProgress', () => {
  it('on a terminal: the run of how many, then an estimate from the runs so far, rewritten in place', () => {
    const s = stream(true);
    let t = 0;
    const p = new RecordProgress(s, { warmup: 1, repeat: 4 }, () => t);
    p.start({ warmup: true, index: 1, of: 1 });
    t += 2000;
    p.done();
    p.clear();
    p.start({ warmup: false, index: 1, of: 4 });
    t += 4000;
    p.done();
    p.start({ warmup: false, index: 2, of: 4 });
    p.clear();
    expect(s.out).toEqual([
      '\r\x1b[Ktuner record: warm-up 1/1, time left unknown until a run ends',
      '\r\x1b[K',
      '\r\x1b[Ktuner record: run 1/4, about 8 s left', // mean 2 s x 4 runs to go
      '\r\x1b[Ktuner record: run 2/4, about 9 s left', // mean 3 s x 3 runs to go
      '\r\x1b[K',
    ]);
  });

  it('alternating: the side and its file, the pair of how many, and the time left over both sides', () => {
    const s = stream(true);
    let t = 0;
    const p = new RecordProgress(s, { warmup: 0, repeat: 4 }, () => t);
    const side = (name: string, file: string, pair: number) => ({ name, file, pair, pairs: 2 });
    p.start({ warmup: false, index: 1, of: 4, side: side('BASE', 'base.json', 1) });
    t += 3000;
    p.done();
    p.start({ warmup: false, index: 2, of: 4, side: side('NEW', 'new.json', 1) });
    t += 5000;
    p.done();
    p.start({ warmup: false, index: 3, of: 4, side: side('NEW', 'new.json', 2) });
    expect(s.out).toEqual([
      '\r\x1b[Ktuner record: run 1/4, pair 1/2, BASE base.json, time left unknown until a run ends',
      '\r\x1b[Ktuner record: run 2/4, pair 1/2, NEW new.json, about 9 s left', // mean 3 s x 3 runs to go
      '\r\x1b[Ktuner record: run 3/4, pair 2/2, NEW new.json, about 8 s left', // mean 4 s x 2 runs to go
    ]);
    expect(p.line({ warmup: true, index: 2, of: 2, side: side('NEW', 'new.json', 1) })).toMatch(
      /^tuner record: warm-up 2\/2, warm-up pair 1\/2, NEW new.json, /,
    );
  });

  it('not a terminal: writes nothing at all', () => {
    const s = stream(false);
    const p = new RecordProgress(s, { warmup: 0, repeat: 3 });
    for (let i = 1; i <= 3; i++) {
      p.start({ warmup: false, index: i, of: 3 });
      p.done();
      p.clear();
    }
    expect(s.out).toEqual([]);
  });

  it.each([
    [400, 'under a second'],
    [12_400, 'about 12 s'],
    [65_000, 'about 1 min 5 s'],
    [120_000, 'about 2 min'],
  ])('fmtLeft(%i) = %s', (ms, want) => expect(fmtLeft(ms)).toBe(want));
});

describe('RecordProgress on a real pseudo-terminal', { timeout: 30_000 }, () => {
  const module = fileURLToPath(new URL('../../dist/output/record-progress.js', import.meta.url));
  const program = `import('${module}').then(({ RecordProgress }) => {
    const p = new RecordProgress(process.stderr, { warmup: 0, repeat: 2 });
    p.start({ warmup: false, index: 1, of: 2 }); p.done(); p.start({ warmup: false, index: 2, of: 2 }); p.done(); p.clear();
    process.stderr.write('done\\n');
  })`;

  it('stderr a TTY: the progress line; stderr a pipe: nothing', async () => {
    const tty = await execa('script', ['-qec', `node -e "${program.replace(/"/g, '\\"')}"`, '/dev/null'], {
      reject: false,
      stdin: 'ignore',
    });
    expect(tty.exitCode, String(tty.stderr)).toBe(0);
    expect(String(tty.stdout)).toContain('tuner record: run 1/2, time left unknown until a run ends');
    expect(String(tty.stdout)).toMatch(/tuner record: run 2\/2, under a second left/);
    const pipe = await execa('node', ['-e', program], { reject: false });
    expect(String(pipe.stderr)).toBe('done');
  });
});
