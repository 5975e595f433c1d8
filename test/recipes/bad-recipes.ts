/**
 * Bad recipes the tests try, each with what the error must say: the line,
 * the dotted path, and fragments of "expected ..." and "got ...". Shared by
 * the unit test (parseRecipe) and the CLI test (exit 2, no stack trace).
 */

/** A valid recipe to start from; `mutate` edits its text. */
export const GOOD = `name: good
description: a valid recipe
interval: 1s
detectors:
  starved:
    signal: sched.cgroups.wait_share
    above: 0.4
    clear: 0.2
    for: 2
  dominant:
    signal: sched.cgroups.cpu_share
    above: 0.6
    clear: 0.45
    for: 2
when:
  all: [starved, dominant]
actions:
  - action: cpu_weight
    target: { detector: dominant, sibling_of: starved }
    direction: lower
    factor: 0.25
    bounds: { min: 25, max: 10000 }
guards:
  cooldown: 2s
  max_changes_per_hour: 30
`;

export interface BadCase {
  name: string;
  text: string;
  line: number | undefined;
  path: string;
  expected: string;
  got: string;
}

const sub = (from: string, to: string): string => {
  if (!GOOD.includes(from)) throw new Error(`test setup: ${from} not in GOOD`);
  return GOOD.replace(from, to);
};

export const BAD: BadCase[] = [
  {
    name: 'unknown top-level key (typo)',
    text: sub('detectors:', 'detector: 1\ndetectors:'),
    line: 4,
    path: 'detector',
    expected: 'one of the keys',
    got: 'unknown key "detector"',
  },
  {
    name: 'guard typo must not drop the guard',
    text: sub('  cooldown: 2s', '  cooldwn: 2s'),
    line: 24,
    path: 'guards.cooldwn',
    expected: 'did you mean "cooldown"',
    got: 'unknown key "cooldwn"',
  },
  {
    name: 'unknown key in an action',
    text: sub('    factor: 0.25', '    facter: 0.25'),
    line: 21,
    path: 'actions[0].facter',
    expected: 'factor',
    got: 'unknown key "facter"',
  },
  {
    name: 'unknown action',
    text: sub('action: cpu_weight', 'action: cpu_weigth'),
    line: 18,
    path: 'actions[0].action',
    expected: 'cpu_weight, cpuset_spread',
    got: '"cpu_weigth" (string)',
  },
  {
    name: 'for is a string',
    text: sub('    for: 2\n  dominant', '    for: "two"\n  dominant'),
    line: 9,
    path: 'detectors.starved.for',
    expected: 'a whole number from 1 to 1000',
    got: '"two" (string)',
  },
  {
    name: 'for is negative',
    text: sub('    for: 2\n  dominant', '    for: -1\n  dominant'),
    line: 9,
    path: 'detectors.starved.for',
    expected: 'a whole number from 1 to 1000',
    got: '-1 (number)',
  },
  {
    name: 'for is fractional',
    text: sub('    for: 2\n  dominant', '    for: 2.5\n  dominant'),
    line: 9,
    path: 'detectors.starved.for',
    expected: 'a whole number',
    got: '2.5 (number)',
  },
  {
    name: 'duration without unit',
    text: sub('cooldown: 2s', 'cooldown: 5'),
    line: 24,
    path: 'guards.cooldown',
    expected: 'a duration like "500ms"',
    got: '5 (number)',
  },
  {
    name: 'duration with a bad unit',
    text: sub('interval: 1s', 'interval: 5 sec'),
    line: 3,
    path: 'interval',
    expected: 'a duration like',
    got: '"5 sec" (string)',
  },
  {
    name: 'unknown signal path',
    text: sub('sched.cgroups.wait_share', 'sched.cgroups.wait_shar'),
    line: 6,
    path: 'detectors.starved.signal',
    expected: 'a signal path',
    got: '"sched.cgroups.wait_shar"',
  },
  {
    name: 'both above and below',
    text: sub('    above: 0.4', '    above: 0.4\n    below: 0.1'),
    line: 6,
    path: 'detectors.starved',
    expected: 'exactly one of "above", "below" or "burst"',
    got: '"above" and "below"',
  },
  {
    name: 'neither above nor below',
    text: sub('    above: 0.4\n', ''),
    line: 6,
    path: 'detectors.starved',
    expected: 'exactly one of "above", "below" or "burst"',
    got: 'none',
  },
  {
    name: 'clear on the wrong side (no hysteresis)',
    text: sub('clear: 0.2', 'clear: 0.6'),
    line: 8,
    path: 'detectors.starved.clear',
    expected: 'at most "above" (0.4)',
    got: '0.6 (number)',
  },
  {
    name: 'threshold outside the signal range',
    text: sub('above: 0.4', 'above: 40'),
    line: 7,
    path: 'detectors.starved.above',
    expected: 'a fraction from 0 to 1',
    got: '40 (number)',
  },
  {
    name: 'when names an unknown detector',
    text: sub('[starved, dominant]', '[starved, dominnt]'),
    line: 16,
    path: 'when.all[1]',
    expected: 'one of the detector names starved, dominant',
    got: '"dominnt" (string)',
  },
  {
    name: 'when is not a condition',
    text: sub('  all: [starved, dominant]', '  al: [starved, dominant]'),
    line: 16,
    path: 'when',
    expected: 'a detector name, or {all: [...]}',
    got: 'a mapping with al',
  },
  {
    name: 'target names an unknown detector',
    text: sub('detector: dominant, sibling_of', 'detector: hog, sibling_of'),
    line: 19,
    path: 'actions[0].target.detector',
    expected: 'one of the detector names',
    got: '"hog" (string)',
  },
  {
    name: 'target detector about the wrong kind of entity',
    text: sub('signal: sched.cgroups.cpu_share', 'signal: sched.cpus.busy_pct').replace(
      'above: 0.6\n    clear: 0.45',
      'above: 60\n    clear: 45',
    ),
    line: 19,
    path: 'actions[0].target.detector',
    expected: 'a detector about cgroups',
    got: 'about CPUs',
  },
  {
    name: 'lowering factor above 1',
    text: sub('factor: 0.25', 'factor: 2'),
    line: 21,
    path: 'actions[0].factor',
    expected: 'a factor from 0.1 to 0.9',
    got: '2 (number)',
  },
  {
    name: 'bounds min above max',
    text: sub('{ min: 25, max: 10000 }', '{ min: 500, max: 100 }'),
    line: 22,
    path: 'actions[0].bounds.min',
    expected: 'no larger than bounds.max (100)',
    got: '500 (number)',
  },
  {
    name: 'weight bound out of range',
    text: sub('{ min: 25, max: 10000 }', '{ min: 0, max: 10000 }'),
    line: 22,
    path: 'actions[0].bounds.min',
    expected: 'a whole number from 1 to 10000',
    got: '0 (number)',
  },
  {
    name: 'missing required key',
    text: sub('description: a valid recipe\n', ''),
    line: 1,
    path: 'description',
    expected: 'a description',
    got: 'nothing',
  },
  {
    name: 'empty action list',
    text: GOOD.replace(/actions:\n(.|\n)*?guards:/, 'actions: []\nguards:'),
    line: 17,
    path: 'actions',
    expected: 'at least one action',
    got: 'an empty list',
  },
  {
    name: 'duplicate key',
    text: sub('  cooldown: 2s', '  cooldown: 2s\n  cooldown: 3s'),
    line: 25,
    path: '',
    expected: 'each key at most once',
    got: 'the key "cooldown" a second time',
  },
  {
    name: 'YAML syntax error',
    text: sub('  all: [starved, dominant]', '  all: [starved, dominant'),
    line: undefined,
    path: '',
    expected: 'valid YAML',
    got: '',
  },
  { name: 'empty file', text: '', line: 1, path: '', expected: 'a mapping with name', got: 'an empty file' },
  { name: 'a list instead of a mapping', text: '- a\n- b\n', line: 1, path: '', expected: 'a mapping with name', got: 'a list of 2' },
  { name: 'two YAML documents', text: GOOD + '---\nname: x\n', line: 26, path: '', expected: 'one YAML document', got: '2 documents' },
  {
    name: 'scope climbs out with ..',
    text: sub('interval: 1s', 'interval: 1s\nscope: { cgroup: "app/../../etc" }'),
    line: 4,
    path: 'scope.cgroup',
    expected: 'without ".."',
    got: '"app/../../etc"',
  },
  {
    name: 'scope with both cgroup and pids',
    text: sub('interval: 1s', 'interval: 1s\nscope: { cgroup: app, pids: [1] }'),
    line: 4,
    path: 'scope',
    expected: 'either cgroup or pids',
    got: 'both',
  },
  {
    name: 'interval below 100ms',
    text: sub('interval: 1s', 'interval: 10ms').replace('cooldown: 2s', 'cooldown: 20ms'),
    line: 3,
    path: 'interval',
    expected: 'at least 100ms',
    got: '"10ms"',
  },
  {
    name: 'cooldown shorter than a window',
    text: sub('cooldown: 2s', 'cooldown: 500ms'),
    line: 24,
    path: 'guards.cooldown',
    expected: 'at least one interval',
    got: '"500ms"',
  },
  {
    name: 'hook program is a relative path',
    text: sub(
      'actions:\n',
      'actions:\n  - action: pressure_backoff\n    bounds: { min_cpus: 0.5 }\n    hook: { command: [pool-size, "{level}"] }\n',
    ),
    line: 20,
    path: 'actions[0].hook.command[0]',
    expected: 'an absolute path',
    got: '"pool-size"',
  },
  {
    name: 'quota off and no hook',
    text: sub('actions:\n', 'actions:\n  - action: pressure_backoff\n    quota: false\n    bounds: { min_cpus: 0.5 }\n'),
    line: 19,
    path: 'actions[0].quota',
    expected: 'a quota change or a hook',
    got: 'false',
  },
  {
    name: 'readahead bound not a multiple of 4 KiB',
    text: sub('actions:\n', 'actions:\n  - action: io_prefetch\n    target: starved\n    bounds: { max_kb: 1001 }\n')
      .replace('sched.cgroups.wait_share', 'io.devices.read_seq_pct')
      .replace('above: 0.4\n    clear: 0.2', 'above: 80\n    clear: 50'),
    line: 20,
    path: 'actions[0].bounds.max_kb',
    expected: 'a multiple of 4',
    got: '1001',
  },
  {
    name: 'also: names a detector about other entities',
    text: sub('{ detector: dominant, sibling_of: starved }', '{ detector: dominant, also: [busy] }').replace(
      'detectors:\n',
      'detectors:\n  busy:\n    signal: sched.cpus.busy_pct\n    below: 50\n    clear: 60\n',
    ),
    line: 23,
    path: 'actions[0].target.also[0]',
    expected: 'a detector about cgroups',
    got: 'about CPUs',
  },
  {
    name: 'burst with a clear threshold',
    text: sub('    above: 0.4\n', '    burst: { k: 3 }\n'),
    line: 8,
    path: 'detectors.starved.clear',
    expected: 'no clear threshold with "burst"',
    got: '0.2 (number)',
  },
  {
    name: 'objective of an unknown detector',
    text: sub('guards:', 'objective: { signal: sched.cgroups.wait_share, of: starvd, goal: lower, noise: 0.02 }\nguards:'),
    line: 23,
    path: 'objective.of',
    expected: 'one of the detector names starved, dominant',
    got: '"starvd"',
  },
  {
    name: 'objective of a detector about other entities',
    text: sub('guards:', 'objective: { signal: sched.procs.wait_share, of: starved, goal: lower, noise: 0.02 }\nguards:'),
    line: 23,
    path: 'objective.of',
    expected: 'a detector about processes',
    got: 'about cgroups',
  },
  {
    name: 'objective goal misspelt',
    text: sub('guards:', 'objective: { signal: sched.cgroups.wait_share, of: starved, goal: down, noise: 0.02 }\nguards:'),
    line: 23,
    path: 'objective.goal',
    expected: 'one of "lower" or "raise"',
    got: '"down"',
  },
  {
    name: 'constraint with both limits',
    text: sub('guards:', 'constraints:\n  - { signal: sched.cgroups.machine_share, at_least: 0.3, at_most: 0.9 }\nguards:'),
    line: 24,
    path: 'constraints[0]',
    expected: 'exactly one of "at_least" or "at_most"',
    got: 'both',
  },
  {
    name: 'constraint limit outside the signal range',
    text: sub('guards:', 'constraints:\n  - { signal: sched.cgroups.machine_share, at_least: 30 }\nguards:'),
    line: 24,
    path: 'constraints[0].at_least',
    expected: 'a fraction from 0 to 1',
    got: '30 (number)',
  },
  {
    name: 'learned strategy without an objective',
    text: sub('interval: 1s', 'interval: 1s\nstrategy: learned'),
    line: 4,
    path: 'strategy',
    expected: 'an objective to learn from',
    got: 'no objective',
  },
  {
    name: 'strategy misspelt',
    text: sub('interval: 1s', 'interval: 1s\nstrategy: lerned'),
    line: 4,
    path: 'strategy',
    expected: 'one of "heuristic" or "learned"',
    got: '"lerned"',
  },
];
