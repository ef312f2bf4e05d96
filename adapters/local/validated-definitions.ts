/**
 * Which state machine definitions asl-validator has passed, remembered across processes (issue 14). Building a
 * validator compiles asl-validator's JSON schemas: 0.35-1.4 s on this machine, paid by every `npm start`, `sluice
 * run` and bench process before its first state. A definition is skipped only if the same text passed the same
 * validator before, so a definition never validated is always validated. Key: sha256 of the definition's JSON,
 * with the asl-validator and interpreter versions. `npm run lint` and tests/unit/asl.test.ts still validate the
 * file on every CI run.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Read on each use, so a test (or a user) can point it elsewhere after this module is loaded. */
const cacheDir = (): string => process.env.SLUICE_CACHE_DIR ?? join(__dirname, '..', '..', '.sluice', 'cache');
const cacheFile = (): string => join(cacheDir(), 'asl-validated.json');
/** Enough for every definition this checkout runs (source, packaged, per-test variants); oldest forgotten first. */
const REMEMBERED = 200;

function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

let validatorVersions: string | undefined;

function keyOf(definition: unknown): string {
  validatorVersions ??= `asl-validator@${versionOf('asl-validator')} aws-local-stepfunctions@${versionOf('aws-local-stepfunctions')}`;
  return createHash('sha256').update(validatorVersions).update(JSON.stringify(definition)).digest('hex');
}

function remembered(): string[] {
  try {
    const keys: unknown = JSON.parse(readFileSync(cacheFile(), 'utf8'));
    return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [];
  } catch {
    return []; // no cache yet, or unreadable: validate
  }
}

/**
 * Whether this exact definition passed validation in an earlier process; if not, `remember()` records that it has
 * now. The key is taken here, before the interpreter sees the definition (it may add fields to the object).
 */
export function validatedBefore(definition: unknown): { before: boolean; remember: () => void } {
  const key = keyOf(definition);
  return { before: remembered().includes(key), remember: () => rememberKey(key) };
}

/** Records that a definition passed; a failure to write only costs a validation next time. */
function rememberKey(key: string): void {
  try {
    const keys = [...remembered().filter((k) => k !== key), key].slice(-REMEMBERED);
    mkdirSync(cacheDir(), { recursive: true });
    const temporary = `${cacheFile()}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(keys));
    renameSync(temporary, cacheFile()); // readers see the old list or the new one, never half
  } catch {
    // read-only checkout: nothing remembered
  }
}
