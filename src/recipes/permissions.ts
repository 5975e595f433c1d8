/**
 * Files tuner trusts when it runs as root (recipes, hook programs) must not
 * be writable by group or others: whoever could edit them could make tuner
 * write kernel knobs or run commands as root. The directory counts too (it
 * lets one replace the file), unless it has the sticky bit.
 */
import { statSync } from 'node:fs';
import path from 'node:path';

const octal = (mode: number): string => '0' + (mode & 0o7777).toString(8);

/** Why `file` is unsafe to trust as root, or undefined when it is fine. */
export function unsafeWritable(file: string): string | undefined {
  let st;
  try {
    st = statSync(file);
  } catch {
    return undefined; // missing files are reported elsewhere
  }
  if (st.mode & 0o022)
    return `it is writable by ${st.mode & 0o020 ? 'group' : ''}${(st.mode & 0o022) === 0o022 ? ' and ' : ''}${st.mode & 0o002 ? 'others' : ''} (mode ${octal(st.mode)})`;
  const dir = path.dirname(path.resolve(file));
  try {
    const d = statSync(dir);
    if (d.mode & 0o022 && !(d.mode & 0o1000))
      return `its directory ${dir} is writable by group or others (mode ${octal(d.mode)}) without the sticky bit`;
  } catch {
    /* unreadable directory: the file was readable, go on */
  }
  return undefined;
}

export const isRoot = (): boolean => process.getuid?.() === 0;
