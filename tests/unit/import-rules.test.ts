/**
 * Issue 27: `npm run lint` fails on an import cycle and on a domain → adapter import. dependency-cruiser runs with
 * the project's own rules (.dependency-cruiser.cjs) on a small tree that breaks each rule once, and on one that
 * keeps them all; the real tree is checked by `npm run lint` itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
// dependency-cruiser 18 needs Node 22: the project's own (the node@22 devDependency), as `npm run lint` uses.
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');

function cruise(files: Record<string, string>): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-house-'));
  try {
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true } }));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const run = spawnSync(
      NODE,
      [DEPCRUISE, 'domain', 'adapters', 'functions', '--config', CONFIG, '--output-type', 'err'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    return { status: run.status, out: run.stdout + run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const keepsTheRules = {
  'domain/common/errors.ts': 'export class SluiceError extends Error {}\n',
  'domain/common/index.ts': "export { SluiceError } from './errors';\n",
  'domain/runs/protocol.ts': "import { SluiceError } from '../common';\nexport const fail = () => new SluiceError();\n",
  'domain/runs/index.ts': "export { fail } from './protocol';\n",
  'adapters/aws/store.ts': "import { fail } from '../../domain/runs';\nexport const store = fail;\n",
  'functions/step.ts': "import { store } from '../adapters/aws/store';\nexport const step = store;\n",
};

describe('the import rules (npm run lint)', () => {
  it('pass a tree that keeps them', () => {
    const { status, out } = cruise(keepsTheRules);
    expect(out).toContain('no dependency violations found');
    expect(status).toBe(0);
  });

  it('fail on an import cycle, type-only imports included', () => {
    const { status, out } = cruise({
      ...keepsTheRules,
      'domain/common/errors.ts':
        "import type { fail } from '../runs';\nexport class SluiceError extends Error {}\nexport type F = typeof fail;\n",
    });
    expect(status).not.toBe(0);
    expect(out).toMatch(/no-circular/);
  });

  it('fail on a domain → adapter import', () => {
    const { status, out } = cruise({
      ...keepsTheRules,
      'domain/runs/protocol.ts': "import { store } from '../../adapters/aws/store';\nexport const fail = store;\n",
    });
    expect(status).not.toBe(0);
    expect(out).toMatch(/domain-imports-no-adapter/);
  });

  it("fail on an adapter → handler import and on reaching past a domain folder's index", () => {
    const { status, out } = cruise({
      ...keepsTheRules,
      'adapters/aws/store.ts':
        "import { fail } from '../../domain/runs/protocol';\nimport { step } from '../../functions/step';\nexport const store = fail ?? step;\n",
      'functions/step.ts': 'export const step = 1;\n',
    });
    expect(status).not.toBe(0);
    expect(out).toMatch(/adapters-import-no-function/);
    expect(out).toMatch(/outside-code-through-the-index/);
  });
});
