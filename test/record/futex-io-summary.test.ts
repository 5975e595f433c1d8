import { describe, expect, it } from 'vitest';
import { FutexTotals } from '../../src/signals/futex/summary.js';
import { IoTotals } from '../../src/signals/io/summary.js';
import type { FutexProcDelta } from '../../src/signals/futex/record.js';
import type { IoDevDelta } from '../../src/signals/io/record.js';

const hist = (slots: Record<number, number>): number[] => {
  const h = new Array<number>(40).fill(0);
  for (const [k, v] of Object.entries(slots)) h[Number(k)] = v;
  return h;
};

function fproc(pid: number, o: Partial<FutexProcDelta>): FutexProcDelta {
  return { pid, comm: 'w', cgroupId: '1', waits: 0, waitNs: 0, timeouts: 0, wakes: 0, woken: 0, hist: hist({}), ...o };
}

describe('FutexTotals', () => {
  it('sums waits over reads and processes and merges histograms before the percentile', () => {
    const t = new FutexTotals();
    t.add({ intervalNs: 1, addrs: [], procs: [fproc(1, { waits: 98, waitNs: 200_000, hist: hist({ 10: 98 }), maxWaitNs: 2000 })] });
    t.add({
      intervalNs: 1,
      addrs: [],
      procs: [fproc(2, { waits: 2, waitNs: 8_000_000, timeouts: 1, hist: hist({ 22: 2 }), maxWaitNs: 5_000_000 })],
    });
    const s = t.summary();
    expect(s.metrics['futex.wait_ns']).toBe(8_200_000);
    expect(s.metrics['futex.waits']).toBe(100);
    // 99th of 100 waits is one of the two long ones, clamped to the exact maximum (5 ms).
    expect(s.metrics['futex.wait_p99_us']).toBeGreaterThan(4000);
    expect(s.metrics['futex.wait_p99_us']).toBeLessThanOrEqual(5000);
    expect(s.details['futex.wait_p50_us']).toBeLessThan(2.1);
    expect(s.details).toMatchObject({ 'futex.timeouts': 1, 'futex.processes': 2, 'futex.wait_max_us': 5000 });
  });
});

function disk(dev: string, o: Partial<IoDevDelta>): IoDevDelta {
  return {
    dev,
    major: 8,
    minor: 0,
    reads: 0,
    writes: 0,
    others: 0,
    readBytes: 0,
    writeBytes: 0,
    readSeq: 0,
    lat: hist({}),
    readLat: hist({}),
    queue: hist({}),
    ...o,
  };
}

describe('IoTotals', () => {
  it('counts the processes own I/O and merges every disk latency histogram', () => {
    const t = new IoTotals();
    t.add({
      intervalNs: 1,
      devices: [
        disk('sda', { reads: 10, readBytes: 40960, lat: hist({ 20: 10 }), maxLatNs: 1_900_000 }),
        disk('nvme0n1', { writes: 90, writeBytes: 8192, lat: hist({ 14: 90 }), maxLatNs: 30_000 }),
      ],
      procs: [{ pid: 1, comm: 'a', cgroupId: '', ios: 100, bytes: 49152, waitNs: 3_000_000 }],
    });
    t.add({ intervalNs: 1, devices: [], procs: [{ pid: 1, comm: 'a', cgroupId: '', ios: 0, bytes: 0, waitNs: 1_000_000 }] });
    const s = t.summary();
    expect(s.metrics['io.wait_ns']).toBe(4_000_000);
    expect(s.metrics['io.ios']).toBe(100);
    // 90 fast writes (16-32 µs) and 10 slow reads (1-2 ms): the p99 is a slow one, the p50 a fast one.
    expect(s.metrics['io.lat_p99_us']).toBeGreaterThan(1000);
    expect(s.details['io.lat_p50_us']).toBeLessThan(40);
    expect(s.details).toMatchObject({ 'io.read_bytes': 40960, 'io.write_bytes': 8192, 'io.lat_max_us': 1900 });
    expect(s.details['io.devices']).toEqual([
      { dev: 'sda', ios: 10, lat_p99_us: 1900 },
      { dev: 'nvme0n1', ios: 90, lat_p99_us: expect.any(Number) },
    ]);
  });
  it('has no latency without I/O', () => {
    expect(new IoTotals().summary().metrics).toEqual({ 'io.wait_ns': 0, 'io.ios': 0, 'io.lat_p99_us': null });
  });
});
