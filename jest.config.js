// Two projects so `npm test` can report fast unit specs apart from the slower ones that
// start real engines (dynalite, DuckDB, the ASL interpreter, `sls package`).
const transform = { '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }] };
// middy (and a few of its deps) and hyparquet ship ESM only; let swc transpile them for jest's CommonJS runtime.
const transformIgnorePatterns = ['/node_modules/(?!(@middy|hyparquet)/)'];
module.exports = {
  // A hang guard, not a speed limit: a loaded 2-core machine makes a 2 s test take 10 s, and that must not fail it.
  testTimeout: 120_000,
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/tests/unit/**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
      setupFiles: ['<rootDir>/tests/support/env.ts'],
    },
    {
      displayName: 'integration',
      testMatch: [
        '<rootDir>/tests/integration/**/*.test.ts',
        '<rootDir>/tests/conformance/**/*.test.ts',
        '<rootDir>/tests/operate/**/*.test.ts',
        '<rootDir>/tests/protocol/**/*.test.ts',
      ],
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
      setupFiles: ['<rootDir>/tests/support/env.ts'],
    },
    {
      // The packaged stack (`sls package`, bundles in zips, ASL from the template) against loopback AWS fakes.
      displayName: 'artifact',
      testMatch: ['<rootDir>/tests/artifact/**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
      setupFiles: ['<rootDir>/tests/support/env.ts'],
    },
    {
      // The Glue script on Spark 3.5 against moto's S3, beside the local engine (issue 22; npm run test:spark).
      displayName: 'spark',
      testMatch: ['<rootDir>/tests/spark/**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
      setupFiles: ['<rootDir>/tests/support/env.ts'],
    },
  ],
};
