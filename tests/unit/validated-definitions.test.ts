/**
 * asl-validator's verdict is remembered across processes (issue 14), only for the exact text that passed: a
 * definition never validated, or changed by one character, is validated again, and an invalid one still fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('validated definitions, remembered across processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-asl-cache-'));
  let validatedBefore: typeof import('../../adapters/local/validated-definitions').validatedBefore;
  let machineFor: typeof import('../../runtime/state-machine').machineFor;
  beforeAll(() => {
    process.env.SLUICE_CACHE_DIR = dir;
    jest.isolateModules(() => {
      ({ validatedBefore } = jest.requireActual('../../adapters/local/validated-definitions'));
      ({ machineFor } = jest.requireActual('../../runtime/state-machine'));
    });
  });
  afterAll(() => {
    delete process.env.SLUICE_CACHE_DIR;
    rmSync(dir, { recursive: true, force: true });
  });
  const definition = (next: string) => ({
    StartAt: 'A',
    States: { A: { Type: 'Pass', Next: next }, B: { Type: 'Succeed' } },
  });

  test('unknown until remembered; the same text is then known, another text is not', () => {
    const first = validatedBefore(definition('B'));
    expect(first.before).toBe(false);
    first.remember();
    expect(validatedBefore(definition('B')).before).toBe(true);
    expect(validatedBefore({ ...definition('B'), Comment: 'changed' }).before).toBe(false);
  });

  test('an unreadable cache means validating again', () => {
    validatedBefore(definition('B')).remember();
    writeFileSync(join(dir, 'asl-validated.json'), '{not json');
    expect(validatedBefore(definition('B')).before).toBe(false);
  });

  test('machineFor still rejects an invalid definition, and remembers only valid ones', () => {
    machineFor(definition('B') as never);
    expect(validatedBefore(definition('B')).before).toBe(true);
    expect(() => machineFor(definition('Nowhere') as never)).toThrow();
    expect(validatedBefore(definition('Nowhere')).before).toBe(false);
  });
});
