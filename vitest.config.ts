import { defineConfig } from 'vitest/config';

// Two projects: unit tests run in parallel; kernel tests load real BPF
// programs and run workloads on a 2-CPU machine, so they run one file at a
// time (they would disturb each other's measurements), and only after the
// unit project has finished (groupOrder): unit tests that start the CLI
// would otherwise load both CPUs while a kernel test measures.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['test/**/*.test.ts'],
          exclude: ['test/kernel/**'],
          // Some unit tests run the built CLI (a node start each): generous on a busy 2-CPU machine.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'kernel',
          sequence: { groupOrder: 1 },
          include: ['test/kernel/**/*.test.ts'],
          fileParallelism: false,
          globalSetup: ['test/helpers/kernel-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
