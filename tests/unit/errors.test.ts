/**
 * Issue 9, defect 1: the ASL matches errors by name, and the minifier renames classes. Every error class must
 * spell its own name as a literal, so the name survives bundling by construction (the artifact suite proves it on
 * the packaged bundles). This test reads the source, so a new class without its literal fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as errors from '../../domain/common/errors';

const source = readFileSync(join(__dirname, '..', '..', 'domain', 'common', 'errors.ts'), 'utf8');
const declared = [...source.matchAll(/export class (\w+) extends SluiceError \{\n([^}]*)\}/g)].map(([, id, body]) => ({
  id: id!,
  body: body!,
}));

test('the source declares error classes', () => {
  expect(declared.length).toBeGreaterThanOrEqual(10);
});

test.each(declared.map((d) => [d.id, d.body] as const))('%s declares its name as a string literal', (id, body) => {
  expect(body).toContain(`override readonly name = '${id}';`);
  const Cls = (errors as unknown as Record<string, new (message: string) => Error>)[id]!;
  const error = new Cls('boom');
  expect(error.name).toBe(id);
  expect(error).toBeInstanceOf(errors.SluiceError);
  expect(error.message).toBe('boom');
});

test('every class is listed as retryable or fatal, with its retryable flag to match', () => {
  const listed = [...errors.RETRYABLE_ERRORS, ...errors.FATAL_ERRORS].sort();
  expect(listed).toEqual(declared.map((d) => d.id).sort());
  for (const { id } of declared) {
    const Cls = (errors as unknown as Record<string, new (message: string) => errors.SluiceError>)[id]!;
    expect([id, new Cls('x').retryable]).toEqual([id, (errors.RETRYABLE_ERRORS as readonly string[]).includes(id)]);
  }
});

test('no error takes its name from the class at run time (minified away in the bundle)', () => {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  expect(code).not.toMatch(/new\.target\.name|constructor\.name/);
});
