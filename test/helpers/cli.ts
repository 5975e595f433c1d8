/** Run the built CLI (dist/cli.js) as users do. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa, type Options } from 'execa';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export function tuner(args: string[], opts: Options = {}) {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  return execa('node', [CLI, ...args], { reject: false, ...opts });
}
