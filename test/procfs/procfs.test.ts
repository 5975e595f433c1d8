import { describe, expect, it } from 'vitest';
import { busyPercent, parseProcStat } from '../../src/procfs/stat.js';
import { parseMountInfo } from '../../src/procfs/mounts.js';
import { parseKernelConfig } from '../../src/procfs/kconfig.js';

describe('procfs parsers', () => {
  it('/proc/stat per-CPU busy time, iowait counted idle', () => {
    const a = parseProcStat('cpu  1 2 3 4\ncpu0 100 0 50 800 50 0 0 0 0 0\ncpu1 0 0 0 1000 0 0 0 0 0 0\nintr 5\n');
    const b = parseProcStat('cpu0 150 0 100 850 100 0 0 0 0 0\ncpu1 0 0 0 1100 0 0 0 0 0 0\n');
    expect(a).toHaveLength(2);
    expect(busyPercent(a, b)).toEqual(
      new Map([
        [0, 50],
        [1, 0],
      ]),
    );
  });

  it('mountinfo with escaped spaces and optional fields', () => {
    const [m] = parseMountInfo('36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n');
    expect(m).toEqual({
      root: '/mnt1',
      mountPoint: '/mnt two',
      fsType: 'ext3',
      source: '/dev/root',
      superOptions: ['rw', 'errors=continue'],
    });
  });

  it('kernel config lines', () => {
    const c = parseKernelConfig('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_HZ=250\n');
    expect(c.get('CONFIG_A')).toBe('y');
    expect(c.has('CONFIG_B')).toBe(false);
    expect(c.get('CONFIG_HZ')).toBe('250');
  });
});
