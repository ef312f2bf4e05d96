// Mutation testing of the run protocol (issues 10, 21): `npm run mutate`. Slow, so never part of `npm test`.
// Scope: the protocol files, guarded by the fast protocol tests (jest.stryker.config.js): the deterministic defect
// and detail tests, the intake tests, and the checker's jest part (every schedule of its one-object scenario), with
// the DynamoDB-backed tests on the in-memory store (tests/protocol/stryker-env.ts). The checker's file runs last, so
// a mutant a fast test kills never waits for it. On a shared machine, one file at a time keeps each report:
// `npx stryker run stryker.config.mjs --mutate domain/runs/protocol.ts`.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  coverageAnalysis: 'perTest',
  // Issue 21: the protocol after the redesign (docs/protocol.md). The protocol checker's jest part
  // (tests/protocol/checker.test.ts) runs the real cores on the in-memory DynamoDB, so it kills mutants in all of
  // them; the moto-based tests (defects, protocol details, intake) cover the adapters against a real API.
  mutate: [
    'domain/runs/protocol.ts',
    'domain/intake/arrival.ts',
    'domain/intake/batch.ts',
    'domain/runs/debounce.ts',
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
  // String literals are log lines and error texts here (the DynamoDB expressions are guarded by the moto tests
  // all the same); leaving them out keeps a run within an hour on a shared 2-core machine.
  mutator: { excludedMutations: ['StringLiteral'] },
  // Static mutants (module-level constants) would each run every test: left out for time (reported as ignored).
  ignoreStatic: true,
  // Not incremental: an incremental run reuses earlier Survived/Timeout results, and a timeout measured on a more
  // loaded machine (or an interrupted run's) would then count as a kill it never was.
  incremental: false,
  concurrency: 2,
  // Generous: at a load of 10+ on this shared 2-core machine a mutant's tests take several times their dry-run
  // time, and a short timeout then counts slow-but-passing runs as "timed out" (detected): a false kill. A mutant
  // that really hangs (an async loop that never yields, so jest's own test timeout cannot fire) costs 10 s more.
  timeoutMS: 10_000,
  timeoutFactor: 1.5,
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
