// Mutation testing of the run protocol (issues 10, 21): `npm run mutate`. Slow, so never part of `npm test`.
// Scope: the protocol files, guarded by the fast protocol tests (jest.stryker.config.js): the deterministic defect
// and detail tests, the intake tests, and the checker's jest part (every schedule of three scenarios), with the
// DynamoDB-backed tests on the in-memory store (tests/protocol/stryker-env.ts). The checker's file runs last, so a
// mutant a fast test kills never waits for it.
// Incremental (reports/stryker-incremental.json): a re-run tests only mutants whose code or covering tests
// changed. Survived/timed-out results are reused too: after changing the timeout, re-measure with --force.

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
    // The fast protocol tests, the DynamoDB-backed ones on the in-memory store (moto is too slow for mutant runs;
    // tests/protocol/adapters-agree.test.ts holds the two equal in `npm test`).
    projectType: 'custom',
    configFile: 'jest.stryker.config.js',
    enableFindRelatedTests: false,
  },
  // String literals are log lines and error texts here (the DynamoDB expressions are guarded by the dynalite tests
  // all the same); leaving them out keeps a run within an hour on a shared 2-core machine.
  mutator: { excludedMutations: ['StringLiteral'] },
  // Static mutants (module-level constants) would each run every test: left out for time (reported as ignored).
  ignoreStatic: true,
  // Incremental: a re-run tests only mutants whose code or covering tests changed since the last run
  // (reports/ is gitignored). `npx stryker run stryker.config.mjs --force` re-tests everything.
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  concurrency: 2,
  // Generous: at a load of 10+ on this shared 2-core machine a mutant's tests take several times their dry-run
  // time, and a short timeout then counts slow-but-passing runs as "timed out" (detected): a false kill. A mutant
  // that really hangs (an async loop that never yields, so jest's own test timeout cannot fire) costs 5 s more.
  timeoutMS: 5_000,
  timeoutFactor: 1.25,
  tempDirName: '.stryker-tmp',
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  ignorePatterns: [
    '.venv',
    'reports',
    '.serverless',
    '.esbuild*',
    '.sluice',
    'coverage',
    'tests/bench',
    'tests/artifact',
  ],
  thresholds: { high: 90, low: 80, break: null },
};
