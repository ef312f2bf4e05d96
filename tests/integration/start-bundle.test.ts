/**
 * `npm start` runs scripts/start.cjs: the CLI from an esbuild bundle, built on the first start and rebuilt when a
 * source is newer. The bundle is what `npm start` ships to a user trying sluice, so it is run here end to end.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const BUILD_NAME = `build-test-${process.pid}`;
const BUILD_DIR = join(ROOT, '.sluice', BUILD_NAME);
const BUNDLE = join(BUILD_DIR, 'cli.cjs');

function start(...args: string[]) {
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts', 'start.cjs'), ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, SLUICE_BUILD_DIR: BUILD_NAME },
  });
  if (result.status === null) throw new Error(`start.cjs did not finish: ${result.stderr}`);
  return result;
}

afterAll(() => rmSync(BUILD_DIR, { recursive: true, force: true }));

describe('npm start from the bundle', () => {
  test('the first start builds the bundle; the demo runs from it and prints its wall time', () => {
    const lake = join(mkdtempSync(join(tmpdir(), 'sluice-start-')), 'lake');
    const result = start('demo', '--lake', lake, '--quiet-ms', '200', '--poll-ms', '20');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(statSync(BUNDLE).isFile()).toBe(true);
    // The inputs it watches: the CLI's own sources and the installed packages.
    const inputs = JSON.parse(readFileSync(join(BUILD_DIR, 'cli.inputs.json'), 'utf8')) as string[];
    expect(inputs).toEqual(expect.arrayContaining(['cli/sluice.ts', 'node_modules/.package-lock.json']));
    expect(inputs.some((f) => f.startsWith('node_modules/') && f !== 'node_modules/.package-lock.json')).toBe(false);
    expect(result.stdout).toMatch(/run succeeded/);
    expect(result.stdout).toMatch(/^wall time: \d+\.\d\d s \(process start to this line\)$/m);
    rmSync(join(lake, '..'), { recursive: true, force: true });
  }, 180_000);

  test('a source newer than the bundle makes the next start rebuild it; an up-to-date bundle is reused', () => {
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(BUNDLE, old, old);
    expect(start('help').status).toBe(0);
    const rebuilt = statSync(BUNDLE).mtimeMs;
    expect(rebuilt).toBeGreaterThan(old.getTime() + 1000);
    expect(start('help').status).toBe(0);
    // Reused, unless a source really changed in between (other work on the same checkout makes a rebuild right).
    const inputs = JSON.parse(readFileSync(join(BUILD_DIR, 'cli.inputs.json'), 'utf8')) as string[];
    if (inputs.every((f) => statSync(join(ROOT, f)).mtimeMs <= rebuilt)) expect(statSync(BUNDLE).mtimeMs).toBe(rebuilt);
  }, 120_000);
});
