/**
 * Which variant of a CO-RE object is loaded: the default first, the compat
 * one when the kernel refuses it (and only then), a forced one through
 * TUNER_BPF_VARIANT.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ObjectLoadError, type Instance } from '../../src/loader/instance.js';
import { firstVariant, forcedVariant, loadVariant, resetVariants, variantOf } from '../../src/loader/variant.js';
import { UsageError } from '../../src/errors.js';

const inst = (name: string): Instance => ({ name, dir: '', mapDir: '', map: (m) => m, link: (p) => p, unload: () => {} });

/** A kernel that refuses the files in `refused` (as bpftool's load does: an ObjectLoadError with libbpf's reason). */
function kernel(refused: string[]): { tried: string[]; load: (file: string) => Promise<Instance> } {
  const tried: string[] = [];
  return {
    tried,
    load: async (file) => {
      tried.push(file);
      if (refused.includes(file)) throw new ObjectLoadError(file, `libbpf: ${file} refused`, new Error('x'));
      return inst(file);
    },
  };
}

afterEach(() => {
  delete process.env.TUNER_BPF_VARIANT;
  resetVariants();
});

describe('CO-RE object variants', () => {
  it.each([
    // [object, refused files, files tried in order, variant chosen]
    ['sched', [], ['sched'], 'default'],
    ['sched', ['sched'], ['sched', 'sched_compat'], 'compat'],
    ['futex', ['futex'], ['futex', 'futex_compat'], 'compat'],
    ['net_sock', ['net_sock'], ['net_sock', 'net_sock_compat'], 'compat'],
  ] as const)('%s with %j refused: tries %j, chooses %s', async (name, refused, tried, chosen) => {
    const k = kernel([...refused]);
    const i = await loadVariant(name, k.load);
    expect(k.tried).toEqual(tried);
    expect(i.name).toBe(tried.at(-1));
    expect(variantOf(name)).toBe(chosen);
  });

  it('remembers a compat choice: the next load goes straight to it', async () => {
    await loadVariant('sched', kernel(['sched']).load);
    const k = kernel(['sched']);
    await loadVariant('sched', k.load);
    expect(k.tried).toEqual(['sched_compat']);
    expect(firstVariant('sched')).toBe('sched_compat');
  });

  it('gives both reasons when the kernel refuses both variants', async () => {
    const err = await loadVariant('sched', kernel(['sched', 'sched_compat']).load).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectLoadError);
    expect((err as ObjectLoadError).object).toBe('sched');
    expect((err as ObjectLoadError).reason).toBe('libbpf: sched refused; its compat variant: libbpf: sched_compat refused');
  });

  it('has no fallback for an object without a compat variant, nor for errors other than a refusal', async () => {
    for (const name of ['net_tcp', 'futex_wait']) {
      const k = kernel([name]);
      await expect(loadVariant(name, k.load)).rejects.toBeInstanceOf(ObjectLoadError);
      expect(k.tried).toEqual([name]);
    }
    const boom = async (): Promise<Instance> => {
      throw new Error('bpffs is not mounted');
    };
    await expect(loadVariant('sched', boom)).rejects.toThrow('bpffs is not mounted');
    expect(variantOf('sched')).toBeUndefined();
  });

  it('TUNER_BPF_VARIANT forces a variant, with no fallback; a bad value is a usage error naming it', async () => {
    process.env.TUNER_BPF_VARIANT = 'compat';
    const k = kernel([]);
    expect((await loadVariant('sched', k.load)).name).toBe('sched_compat');
    expect(firstVariant('net_tcp')).toBe('net_tcp'); // no compat build: the default
    process.env.TUNER_BPF_VARIANT = 'default';
    const k2 = kernel(['sched']);
    await expect(loadVariant('sched', k2.load)).rejects.toBeInstanceOf(ObjectLoadError);
    expect(k2.tried).toEqual(['sched']);
    expect(forcedVariant({ TUNER_BPF_VARIANT: 'auto' })).toBeUndefined();
    expect(() => forcedVariant({ TUNER_BPF_VARIANT: 'old' })).toThrow(UsageError);
    expect(() => forcedVariant({ TUNER_BPF_VARIANT: 'old' })).toThrow('TUNER_BPF_VARIANT: expected auto, default or compat, got "old"');
  });
});
