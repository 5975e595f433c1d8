/**
 * `tuner agent` acting: the noisy-neighbor recipe with `apply: true` and the
 * scene's cgroup as its scope lowers the hog's cpu.shares on this kernel; a
 * SIGHUP reload with a broken recipe keeps the running set (the knob stays
 * held, the agent says why); SIGTERM puts every knob back.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, until, type RunningAgent } from '../helpers/agent.js';
import { skipKernel } from '../helpers/kernel.js';
import { cleanup, noisyNeighbor, RECIPE } from '../helpers/noisy-neighbor.js';

const agents: RunningAgent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  await cleanup();
});

describe.skipIf(skipKernel)('tuner agent in apply mode', () => {
  it('lowers the hog, keeps its recipes on a bad reload, and reverts on SIGTERM', async () => {
    const scene = await noisyNeighbor();
    const name = `/${path.basename(scene.parent.path)}`;
    const before = scene.hog.read('cpu.shares');
    expect(before).toBe('262144');
    // A recipe names its cgroup relative to the hierarchy root, without a leading slash.
    const recipe = `${readFileSync(RECIPE, 'utf8')}\napply: true\nscope:\n  cgroup: ${name.slice(1)}\n`;
    const agent = await startAgent('interval: 1s\nsignals: [sched, psi]\n', '', { 'noisy-neighbor.yaml': recipe }, scene.env);
    agents.push(agent);
    const t0 = Date.now();
    const lowered = await until(
      'the hog cpu.shares to be lowered',
      async () => {
        const v = Number(scene.hog.read('cpu.shares'));
        return v < 262144 ? v : undefined;
      },
      30_000,
    );
    console.log(`agent apply: hog cpu.shares 262144 -> ${lowered} after ${Date.now() - t0} ms`);
    // The decision is in the JSON log: the knob, old -> new, written.
    const decision = await until(
      'the decision in the log',
      async () => agent.log.find((l) => l.event === 'decision' && l.applied === true),
      5_000,
    );
    expect(decision.recipe).toBe('noisy-neighbor');
    console.log(
      `agent apply: decision ${String(decision.knob)} ${String(decision.old)} -> ${String(decision.new)}: ${String(decision.msg)}`,
    );

    // A broken recipe next to it: the reload is refused and says why; the running recipe keeps its knob.
    writeFileSync(path.join(agent.recipesDir, 'broken.yaml'), 'name: broken\ndetectors: 3\n');
    const refusedBefore = agent.log.filter((l) => l.event === 'reload' && l.result === 'refused').length;
    agent.proc.kill('SIGHUP');
    const refused = await until(
      'the reload to be refused',
      async () => agent.log.filter((l) => l.event === 'reload' && l.result === 'refused').slice(refusedBefore)[0],
      15_000,
    );
    console.log(`agent apply: reload refused: ${String(refused.error).split('\n')[0]}`);
    expect(String(refused.error)).toContain('broken.yaml');
    expect((await agent.get('/readyz')).status).toBe(200);
    expect(Number(scene.hog.read('cpu.shares'))).toBeLessThan(262144);
    const held = (await agent.get('/metrics')).body;
    expect(held).toMatch(/^tuner_agent_recipes\{mode="apply"\} 1$/m);

    // SIGTERM: every knob back, a clean exit.
    const { exitCode } = await agent.stop();
    agents.splice(0);
    expect(exitCode).toBe(0);
    expect(scene.hog.read('cpu.shares')).toBe('262144');
    const stop = agent.log.find((l) => l.event === 'stop');
    expect(stop?.reverted).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
