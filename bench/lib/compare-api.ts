/**
 * compare's statistics as built in dist/, loaded at run time (the bench is
 * compiled apart from src/), for the power study.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST } from './paths.js';

type Analyse = typeof import('../../dist/compare/analyse.js');
type Select = typeof import('../../dist/compare/select.js');
type Metrics = typeof import('../../dist/record/metrics.js');
type Multiple = typeof import('../../dist/stats/multiple.js');
type RankSum = typeof import('../../dist/stats/rank-sum.js');
type TTest = typeof import('../../dist/stats/t-test.js');
type Rng = typeof import('../../dist/stats/rng.js');

export type CompareLib = Pick<Analyse, 'analyse' | 'failsGate'> &
  Pick<Select, 'PRIMARY_METRICS'> &
  Pick<Metrics, 'metricInfo'> &
  Pick<Multiple, 'bhAdjust' | 'holmAdjust' | 'taroneEligible'> &
  Pick<RankSum, 'rankSumTest'> &
  Pick<TTest, 'trimmedTest'> &
  Pick<Rng, 'seededRandom'>;

const load = async <T>(...parts: string[]): Promise<T> => (await import(pathToFileURL(path.join(DIST, ...parts)).href)) as T;

export async function compareLib(): Promise<CompareLib> {
  const [a, s, m, mu, r, t, g] = await Promise.all([
    load<Analyse>('compare', 'analyse.js'),
    load<Select>('compare', 'select.js'),
    load<Metrics>('record', 'metrics.js'),
    load<Multiple>('stats', 'multiple.js'),
    load<RankSum>('stats', 'rank-sum.js'),
    load<TTest>('stats', 't-test.js'),
    load<Rng>('stats', 'rng.js'),
  ]);
  return { ...a, ...s, ...m, ...mu, ...r, ...t, ...g };
}
