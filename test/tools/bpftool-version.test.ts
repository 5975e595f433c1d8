import { describe, expect, it } from 'vitest';
import { parseBpftoolVersion } from '../../src/tools/bpftool.js';

// `bpftool -j version` output (and the `version` element of a -j batch), as bpftool prints it.
describe('parseBpftoolVersion', () => {
  it.each([
    ['7.5.0', 7, 5, true],
    ['v7.2.0', 7, 2, true],
    ['7.1.0', 7, 1, false],
    ['8.0.0', 8, 0, true],
    ['6.8.0', 6, 8, false],
  ])('%s: major %d, minor %d, autoattach %s', (version, major, minor, autoattach) => {
    const v = parseBpftoolVersion({ version, libbpf_version: '1.5', features: { libbfd: false } });
    expect(v).toEqual({ version, major, minor, autoattach });
  });

  it('an output without a version means no autoattach, not a crash', () => {
    expect(parseBpftoolVersion(undefined)).toEqual({ version: '', major: 0, minor: 0, autoattach: false });
    expect(parseBpftoolVersion({ version: 'unknown' })).toMatchObject({ major: 0, autoattach: false });
  });
});
