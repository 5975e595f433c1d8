/** The benchmark's seeded run simulation, shared with compare's statistics tests. */
export * from '../../bench/lib/simulate.js';
export { seededRandom } from '../../src/stats/rng.js';
