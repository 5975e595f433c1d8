import { describe, expect, it } from 'vitest';
import { dropReasonName, NET_DROP_NO_REASON, parseDropReasons } from '../../src/signals/net/bpf.js';

describe('net drop reasons', () => {
  const format = 'print fmt: "reason: %s", __print_symbolic(REC->reason, { 2, "NOT_SPECIFIED" }, { 3, "NO_SOCKET" })';

  it('names a reason from the tracepoint format, and an unnamed one by its code', () => {
    const r = parseDropReasons(format);
    expect(dropReasonName(r, 3)).toBe('NO_SOCKET');
    expect(dropReasonName(r, 77)).toBe('reason 77');
  });

  it('names the row of a kernel without reasons as unknown, whatever the format holds', () => {
    expect(dropReasonName(new Map(), NET_DROP_NO_REASON)).toMatch(/^UNKNOWN/);
    expect(dropReasonName(parseDropReasons(format), NET_DROP_NO_REASON)).toMatch(/^UNKNOWN/);
  });

  it('agrees with bpf/net.h on the no-reason key', async () => {
    const { readFileSync } = await import('node:fs');
    const h = readFileSync(new URL('../../bpf/net.h', import.meta.url), 'utf8');
    const reasons = Number(/#define NET_DROP_REASONS (\d+)/.exec(h)![1]);
    expect(/#define NET_DROP_NO_REASON \(NET_DROP_REASONS - 1\)/.test(h)).toBe(true);
    expect(NET_DROP_NO_REASON).toBe(reasons - 1);
  });
});
