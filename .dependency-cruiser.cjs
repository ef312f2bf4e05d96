// `npm run lint` runs this (issue 27): no import cycles, and the layering of the house (docs/architecture.md).
// Type-only imports count (tsPreCompilationDeps): a cycle of types is still a cycle a reader has to untangle.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, type-only ones included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-imports-no-adapter',
      comment: 'The domain is pure: it talks to the world through the ports it declares, never an adapter.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: '^(adapters|functions|runtime|deploy|cli|scripts|tests)/' },
    },
    {
      name: 'adapters-import-no-function',
      comment:
        'Adapters implement ports. The handlers (functions/), the local runtime (runtime/), the stack (deploy/) and ' +
        'the CLI (cli/) compose them, not the reverse.',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: '^(functions|runtime|deploy|cli)/' },
    },
    {
      name: 'handlers-import-no-composition',
      comment: 'A handler is composed into the runtime, the stack and the CLI; it knows none of them.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^(runtime|deploy|cli)/' },
    },
    {
      name: 'domain-folder-through-its-index',
      comment:
        "A domain folder's index.ts is its public surface: another domain folder imports only that. (Inside a " +
        'folder, files import each other directly.)',
      severity: 'error',
      from: { path: '^domain/([^/]+)/' },
      to: { path: '^domain/[^/]+/', pathNot: ['^domain/$1/', '^domain/[^/]+/index\\.ts$'] },
    },
    {
      name: 'outside-code-through-the-index',
      comment:
        'Handlers, adapters, the CLI and scripts import a domain folder through its index.ts. Tests may reach a ' +
        "folder's internals to test a unit.",
      severity: 'error',
      from: { path: '^(adapters|functions|runtime|deploy|cli|scripts|schemas|domain/[^/]+\\.ts$)' },
      to: { path: '^domain/[^/]+/', pathNot: '^domain/[^/]+/index\\.ts$' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|\\.venv|\\.serverless|\\.esbuild[^/]*|\\.stryker-tmp|coverage|reports|\\.sluice)/' },
  },
};
