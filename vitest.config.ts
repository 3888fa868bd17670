import { defineConfig } from 'vitest/config';

// The projects, one runner (`npm run test:fast` runs unit and infra; `npm test` all of them):
// - unit: pure code and in-memory adapters; never touches the network;
// - infra: CDK template assertions and cdk-nag over the synthesized app (its global setup builds the
//   functions' bundles, when their sources changed);
// - pack: `npm pack`, and the tarball installed and used in an empty project outside the repository;
// - sim: the deterministic simulation of the protocol (seeded, in memory);
// - e2e: the emulator (embedded ministack, or the one AWS_ENDPOINT_URL names) with the real CDK app
//   deployed into it once by the global setup; integration tests share that emulator;
// - slow: the chaos workload and the bench, minutes each, on the same emulator and stack.
// Every project's first global setup gives the run a temporary directory of its own, removed at the
// end (test/support/temp-dir.ts).
const TEMP_DIR = 'test/support/temp-dir.ts';
const onTheDeployedStack = {
  globalSetup: [TEMP_DIR, 'test/support/global-setup.ts'],
  // One file at a time, across both projects: they share one emulator on 2 cores, and the chaos
  // run's load would otherwise turn other files' transactions into prepare timeouts.
  fileParallelism: false,
  testTimeout: 120_000,
  hookTimeout: 600_000,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          globalSetup: [TEMP_DIR],
          // Files share a worker's module cache: loading zod, the AWS SDK and aws-cdk-lib once per
          // worker rather than once per file takes the unit and infra projects from ~2 min to ~45 s.
          // Tests that change the environment or globals restore them.
          isolate: false,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          isolate: false,
          globalSetup: [TEMP_DIR, 'test/support/build-lambda-code.ts'],
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'pack',
          include: ['test/pack/**/*.test.ts'],
          globalSetup: [TEMP_DIR],
          // npm pack, then an install of the tarball into an empty project.
          hookTimeout: 300_000,
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'sim',
          include: ['test/sim/**/*.test.ts'],
          globalSetup: [TEMP_DIR],
          testTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          ...onTheDeployedStack,
        },
      },
      {
        test: {
          name: 'slow',
          include: ['test/slow/**/*.test.ts'],
          ...onTheDeployedStack,
        },
      },
    ],
  },
});
