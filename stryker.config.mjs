// Mutation testing of the run protocol (issue 10): `npm run mutate`. Slow, so never part of `npm test`.
// Scope: the protocol files and their deterministic guards, trimmed for time on a shared 2-core machine: the
// 10,000-event burst is skipped (tests/protocol/mutation-env.ts); intake-properties and the tests/protocol suites
// (interleaving model, adapter agreement: 10-50 s per mutant) are left out, so every survivor here is also a
// question for the model (see the note).
const transform = { '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }] };

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  coverageAnalysis: 'perTest',
  mutate: [
    'domain/runs.ts',
    'domain/intake.ts',
    'domain/debounce.ts',
    'domain/steps/run.ts',
    'adapters/aws/dynamo-state.ts',
  ],
  jest: {
    enableFindRelatedTests: false,
    config: {
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
      setupFiles: ['<rootDir>/tests/support/env.ts', '<rootDir>/tests/protocol/mutation-env.ts'],
      testMatch: [
        '<rootDir>/tests/unit/steps.test.ts',
        '<rootDir>/tests/unit/polling-and-debounce.test.ts',
        '<rootDir>/tests/integration/intake.test.ts',
        '<rootDir>/tests/integration/intake-faults.test.ts',
        '<rootDir>/tests/integration/state-machine.test.ts',
      ],
    },
  },
  // String literals are log lines and error texts here (the DynamoDB expressions are guarded by the dynalite tests
  // all the same); leaving them out keeps a run within an hour on a shared 2-core machine.
  mutator: { excludedMutations: ['StringLiteral'] },
  concurrency: 2,
  timeoutMS: 20_000,
  timeoutFactor: 1.5,
  tempDirName: '.stryker-tmp',
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: '/tmp/sluice-stryker/mutation.json' },
  htmlReporter: { fileName: '/tmp/sluice-stryker/mutation.html' },
  ignorePatterns: ['.serverless', '.esbuild*', '.sluice', 'coverage', 'tests/bench', 'tests/artifact'],
  thresholds: { high: 90, low: 80, break: null },
};
