// The mutation run's jest config (stryker.config.mjs; `npm run mutate`): the fast protocol tests only, with the
// DynamoDB-backed ones on the in-memory store (tests/protocol/stryker-env.ts). Never part of `npm test`.
const transform = { '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }] };
module.exports = {
  displayName: 'mutation',
  rootDir: __dirname,
  testEnvironment: 'node',
  // A hang guard: a loaded shared machine makes slow tests slower; that must not count as a kill.
  testTimeout: 60_000,
  transform,
  transformIgnorePatterns: ['/node_modules/(?!(@middy|hyparquet)/)'],
  setupFiles: ['<rootDir>/tests/support/env.ts', '<rootDir>/tests/protocol/stryker-env.ts'],
  testSequencer: '<rootDir>/tests/protocol/stryker-sequencer.js',
  testMatch: [
    '<rootDir>/tests/unit/steps.test.ts',
    '<rootDir>/tests/unit/polling-and-debounce.test.ts',
    '<rootDir>/tests/protocol/protocol-details.test.ts',
    '<rootDir>/tests/protocol/arrival-batches.test.ts',
    '<rootDir>/tests/protocol/run-steps.test.ts',
    '<rootDir>/tests/protocol/defects.test.ts',
    '<rootDir>/tests/protocol/intake-batch-mutants.test.ts',
    '<rootDir>/tests/protocol/dynamo-state-mutants.test.ts',
    '<rootDir>/tests/protocol/checker.test.ts',
    '<rootDir>/tests/integration/intake.test.ts',
    '<rootDir>/tests/integration/intake-batch.test.ts',
    '<rootDir>/tests/integration/intake-faults.test.ts',
  ],
};
