import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACTION_NAMES } from '../../src/actions/registry.js';
import { SIGNAL_PATHS } from '../../src/detect/paths.js';

const readme = readFileSync(new URL('../../docs/recipes.md', import.meta.url), 'utf8');

describe('docs/recipes.md documents', () => {
  it('every detector signal path', () => {
    const missing = SIGNAL_PATHS.filter((p) => !p.path.startsWith('psi.') && !readme.includes(`| \`${p.path}\` |`)).map((p) => p.path);
    expect(missing).toEqual([]);
    expect(readme).toContain('| `psi.{cpu,memory,io}.{some,full}_{avg10,avg60,pct}` |');
    expect(readme).toContain('| `psi.cgroups.{cpu,memory,io}.{some,full}_{avg10,avg60,pct}` |');
  });

  it('every action and every shipped recipe', () => {
    for (const a of ACTION_NAMES) expect(readme).toContain(`| \`${a}\` |`);
    for (const r of ['noisy-neighbor', 'spread-hot-threads', 'psi-backoff', 'readahead-sequential', 'numa-locality'])
      expect(readme).toContain(`| \`${r}.yaml\` |`);
  });
});
