import { describe, expect, it } from 'vitest';
import { runTool, toolEnv } from '../../src/tools/run.js';

describe('toolEnv', () => {
  it('asks glibc for huge pages when nothing is set', () => {
    const env = toolEnv({ PATH: '/bin' });
    expect(env.GLIBC_TUNABLES).toBe('glibc.malloc.hugetlb=1');
    expect(env.PATH).toBe('/bin');
  });

  it('appends to tunables the caller set', () => {
    expect(toolEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES).toBe('glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
  });

  it("keeps the caller's own hugetlb choice", () => {
    const env = { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' };
    expect(toolEnv(env)).toBe(env);
  });

  it('does not change the environment it is given', () => {
    const env = { GLIBC_TUNABLES: 'a=1' };
    toolEnv(env);
    expect(env).toEqual({ GLIBC_TUNABLES: 'a=1' });
  });

  it('is the environment a started tool sees', async () => {
    const seen = await runTool('/bin/sh', ['-c', 'printf %s "$GLIBC_TUNABLES"']);
    expect(seen).toBe(toolEnv(process.env).GLIBC_TUNABLES);
    expect(seen).toMatch(/glibc\.malloc\.hugetlb=/);
  });

  it('follows changes to process.env made after earlier tools started', async () => {
    await runTool('/bin/true', []);
    process.env.TUNER_TEST_ENV_PROBE = 'later';
    try {
      expect(await runTool('/bin/sh', ['-c', 'printf %s "$TUNER_TEST_ENV_PROBE"'])).toBe('later');
    } finally {
      delete process.env.TUNER_TEST_ENV_PROBE;
    }
  });
});
