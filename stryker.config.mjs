// Mutation testing of the run protocol (issue 10): `npm run mutate`. Slow, so never part of `npm test`.
// Scope: the protocol files and their deterministic guards, trimmed for time on a shared 2-core machine: the
// 10,000-event burst is skipped (tests/protocol/mutation-env.ts); intake-properties and the tests/protocol suites
// (interleaving model, adapter agreement: 10-50 s per mutant) are left out, so every survivor here is also a
// question for the model (see the note); tests/protocol/protocol-details.test.ts (fast, dynalite) is in.
// Incremental (reports/stryker-incremental.json): a re-run tests only mutants whose code or covering tests
// changed. Survived/timed-out results are reused too: after changing the timeout, re-measure with --force.
const transform = { '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }] };

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  coverageAnalysis: 'perTest',
  // Issue 21: the protocol after the redesign (docs/protocol.md). The protocol checker's jest part
  // (tests/protocol/checker.test.ts) runs the real cores on the in-memory DynamoDB, so it kills mutants in all of
  // them; the moto-based tests (defects, protocol details, intake) cover the adapters against a real API.
  mutate: [
    'domain/runs.ts',
    'domain/intake.ts',
    'domain/intake-batch.ts',
    'domain/debounce.ts',
    'domain/steps/run.ts',
    'adapters/aws/dynamo-state.ts',
    'adapters/aws/dynamo-arrival-batches.ts',
  ],
  jest: {
    enableFindRelatedTests: false,
    config: {
      // A test that is merely slow under load must not count as a kill (jest's 5 s default did: the first
      // state-machine test, which compiles the schemas, takes 5+ s at a load of 13).
      testTimeout: 60_000,
      // One project replaces jest.config.js's three: Stryker merges this over the file's config, and each of the
      // file's projects would otherwise run the tests below again (3x the work) without mutation-env.ts.
      projects: [
        {
          displayName: 'mutation',
          testEnvironment: 'node',
          testTimeout: 60_000,
          transform,
          transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
          setupFiles: ['<rootDir>/tests/support/env.ts', '<rootDir>/tests/protocol/mutation-env.ts'],
          testMatch: [
            '<rootDir>/tests/unit/steps.test.ts',
            '<rootDir>/tests/unit/polling-and-debounce.test.ts',
            '<rootDir>/tests/integration/intake.test.ts',
            '<rootDir>/tests/integration/intake-faults.test.ts',
            '<rootDir>/tests/integration/state-machine.test.ts',
            '<rootDir>/tests/protocol/protocol-details.test.ts',
            '<rootDir>/tests/protocol/defects.test.ts',
            '<rootDir>/tests/protocol/checker.test.ts',
          ],
        },
      ],
    },
  },
  // String literals are log lines and error texts here (the DynamoDB expressions are guarded by the dynalite tests
  // all the same); leaving them out keeps a run within an hour on a shared 2-core machine.
  mutator: { excludedMutations: ['StringLiteral'] },
  // Incremental: a re-run tests only mutants whose code or covering tests changed since the last run
  // (reports/ is gitignored). `npx stryker run stryker.config.mjs --force` re-tests everything.
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  concurrency: 2,
  // Generous: at a load of 10+ on this shared 2-core machine a mutant's tests take several times their dry-run
  // time, and a short timeout then counts slow-but-passing runs as "timed out" (detected): a false kill. A mutant
  // that really hangs (an async loop that never yields, so jest's own test timeout cannot fire) costs 30 s more.
  timeoutMS: 30_000,
  timeoutFactor: 2,
  tempDirName: '.stryker-tmp',
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  ignorePatterns: ['.serverless', '.esbuild*', '.sluice', 'coverage', 'tests/bench', 'tests/artifact'],
  thresholds: { high: 90, low: 80, break: null },
};
