// Two projects so `npm test` can report fast unit specs apart from the slower ones that
// start real engines (dynalite, DuckDB, the ASL interpreter, `sls package`).
const transform = { '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }] };
// middy (and a few of its deps) ship ESM only; let swc transpile them for jest's CommonJS runtime.
const transformIgnorePatterns = ['/node_modules/(?!(@middy)/)'];
module.exports = {
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
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
      setupFiles: ['<rootDir>/tests/support/env.ts'],
    },
  ],
};
