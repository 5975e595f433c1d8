import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pickBackend } from '../../src/signals/open.js';
import { SIGNAL_DEFS, SIGNALS, signalDef, signalsWith } from '../../src/signals/registry.js';
import type { SignalDef } from '../../src/signals/types.js';

const SIGNALS_DIR = path.join(import.meta.dirname, '../../src/signals');

describe('signal registry', () => {
  it('has one folder per signal and one signal per folder', () => {
    const folders = readdirSync(SIGNALS_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect([...folders].sort()).toEqual([...SIGNALS].sort());
  });

  it('lists what the commands use, as documented', () => {
    expect(signalsWith('inAll')).toEqual(['sched', 'futex', 'io', 'psi']);
    expect(signalsWith('producesEvents')).toEqual(['sched', 'futex', 'io']);
    expect(signalsWith('diagnose')).toEqual(['sched', 'futex', 'io']);
    expect(signalsWith('record')).toEqual(['sched', 'futex', 'io', 'psi']);
    expect(signalDef('nope')).toBeUndefined();
  });

  describe.each(SIGNAL_DEFS.map((d) => [d.name, d as SignalDef] as const))('%s', (name, def) => {
    it('loads a source module, a view and its record summary', async () => {
      expect(typeof (await def.load()).openSource).toBe('function');
      expect(typeof (await def.view())).toBe('function');
      if (def.record?.kind === 'raw') expect(typeof (await def.record.totals())).toBe('function');
      if (def.record?.kind === 'record') expect(typeof (await def.record.summarise())).toBe('function');
      expect(def.backends.length).toBeGreaterThan(0);
    });

    it('reads procfs whatever backend is asked when it has no BPF backend', async () => {
      if (def.backends.includes('bpf') || def.backends.includes('bpftrace')) return;
      for (const asked of ['auto', 'bpf', 'bpftrace'] as const) {
        expect(await pickBackend(def, asked)).toEqual({ signal: name, backend: 'procfs', reason: 'reads /proc and /sys (no BPF)' });
      }
    });
  });
});
