/** Which command lines start the session's bpftool before the CLI loads (src/prestart.ts). */
import { describe, expect, it } from 'vitest';
import { prestartsSched } from '../../src/prestart.js';

describe('prestartsSched', () => {
  it('starts early for watch sched and watch all as root, whatever the other flags', () => {
    expect(prestartsSched(['watch', 'sched'], 0)).toBe(true);
    expect(prestartsSched(['watch', 'all', '--json', '--pid', '1'], 0)).toBe(true);
    expect(prestartsSched(['watch', 'sched', '--backend', 'bpf'], 0)).toBe(true);
    expect(prestartsSched(['watch', 'sched', '--interval', 'nonsense'], 0)).toBe(true); // refused later: the session is discarded
  });

  it('does not for other commands and signals, help, the bpftrace backend, or another user', () => {
    expect(prestartsSched(['watch', 'futex'], 0)).toBe(false);
    expect(prestartsSched(['diagnose', '--pid', '1'], 0)).toBe(false);
    expect(prestartsSched(['watch'], 0)).toBe(false);
    expect(prestartsSched([], 0)).toBe(false);
    expect(prestartsSched(['watch', 'sched', '--help'], 0)).toBe(false);
    expect(prestartsSched(['watch', 'sched', '-h'], 0)).toBe(false);
    expect(prestartsSched(['watch', 'sched', '--backend', 'bpftrace'], 0)).toBe(false);
    expect(prestartsSched(['watch', 'sched', '--backend=bpftrace'], 0)).toBe(false);
    expect(prestartsSched(['watch', 'sched'], 1000)).toBe(false);
  });
});
