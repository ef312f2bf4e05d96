/**
 * The local runtime's validators come ready-made from a cache of Ajv standalone code (issue 14). They must behave
 * exactly like the ones Ajv compiles on first use (verdict, errors, defaults filled in), be used only for the exact
 * schemas they were made from, and a cache that is corrupt or cannot be written must never break validation.
 * Each "process" below is a fresh module registry (jest.isolateModules): its own validation.ts and its own cache.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import localConfig from '../../config/local.json';

type Validation = typeof import('../../domain/common/validation');
type Compiled = typeof import('../../adapters/local/compiled-validators');
type SchemaName = import('../../domain/common/validation').SchemaName;

/** A new process's view: its own validation.ts (nothing compiled yet) and the cache adapter bound to it. */
function freshProcess(): { validation: Validation; compiled: Compiled } {
  let modules: { validation: Validation; compiled: Compiled } | undefined;
  jest.isolateModules(() => {
    modules = {
      validation: jest.requireActual('../../domain/common/validation'),
      compiled: jest.requireActual('../../adapters/local/compiled-validators'),
    };
  });
  return modules!;
}

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-local:orders-1';
/** One valid example per schema; the properties below mutate them into invalid ones. */
const SAMPLES: Array<[SchemaName, unknown]> = [
  ['ExecutionInput', { dataset: 'orders', trigger: 'arrival' }],
  ['ExecutionInput', { dataset: 'orders', partitions: [{ year: '2024', month: '01', day: '05' }] }],
  ['ExecutionInput', { dataset: 'orders', range: { from: { year: '2024' }, to: { year: '2025' } } }],
  ['ExecutionInput', { dataset: 'orders', manifest: 's3://art/manifests/a.json', skipCrawler: true }],
  ['StartJobRunInput', { dataset: 'orders', partition: { year: '2024', month: '01' }, executionArn: ARN }],
  ['JobRunState', { runId: 'jr_1', runKey: 'k', startedAt: '2024-01-05T10:00:00Z', done: false, waitSeconds: 5 }],
  [
    'S3ObjectCreatedEvent',
    {
      id: 'e-1',
      source: 'aws.s3',
      'detail-type': 'Object Created',
      time: '2024-01-05T10:00:00Z',
      detail: { bucket: { name: 'raw' }, object: { key: 'orders/a.csv', size: 10, sequencer: '0A1B' } },
    },
  ],
  ['SluiceConfig', localConfig],
];

interface Verdict {
  valid: boolean;
  errors: unknown;
  message: string;
  /** The value after validation: useDefaults fills in missing fields. */
  value: unknown;
}

function verdictOf(validation: Validation, name: SchemaName, input: unknown): Verdict {
  const value = structuredClone(input);
  const check = validation.validatorFor(name);
  const valid = check(value);
  return { valid, errors: check.errors ?? null, message: validation.describeErrors(check.errors), value };
}

/** Every path to a value inside `value` (the root included). */
function pathsIn(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return [at];
  const children = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [at, ...children.flatMap((key) => pathsIn((value as Record<string, unknown>)[key], [...at, key]))];
}

type Change = { op: 'delete' } | { op: 'replace'; with: unknown } | { op: 'add'; key: string; with: unknown };

/** The sample with one change at one path: a field removed, replaced by any JSON, or one added. */
function changed(sample: unknown, path: Array<string | number>, change: Change): unknown {
  const copy = structuredClone(sample);
  if (path.length === 0) return change.op === 'replace' ? change.with : copy;
  const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], copy);
  const last = path[path.length - 1]!;
  const target = parent as Record<string | number, unknown>;
  if (change.op === 'delete') {
    if (Array.isArray(target)) target.splice(last as number, 1);
    else delete target[last];
  } else if (change.op === 'replace') target[last] = change.with;
  else {
    const inner = target[last];
    if (inner !== null && typeof inner === 'object' && !Array.isArray(inner))
      (inner as Record<string, unknown>)[change.key] = change.with;
  }
  return copy;
}

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.constant<Change>({ op: 'delete' }),
  fc.jsonValue({ maxDepth: 2 }).map((value): Change => ({ op: 'replace', with: value })),
  fc
    .tuple(fc.constantFrom('extra', 'dataset', 'skipCrawler', 'year', 'x-y'), fc.jsonValue({ maxDepth: 1 }))
    .map(([key, value]): Change => ({ op: 'add', key, with: value })),
);

describe('validators loaded from the cache', () => {
  let dir: string;
  /** The cache file as a first process writes it (generated once for the tests that start from a good cache). */
  let good: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-validators-'));
    process.env.SLUICE_CACHE_DIR = dir;
    freshProcess().compiled.installCompiledValidators();
    good = readFileSync(join(dir, 'validators.cjs'), 'utf8');
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-validators-'));
    process.env.SLUICE_CACHE_DIR = dir;
  });
  afterEach(() => {
    delete process.env.SLUICE_CACHE_DIR;
    rmSync(dir, { recursive: true, force: true });
  });
  const cacheText = () => readFileSync(join(dir, 'validators.cjs'), 'utf8');
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  /** A module whose validators accept anything: what a stale cache would do if it were used. */
  const acceptAll = (validation: Validation) =>
    validation.SCHEMA_NAMES.map(
      (name) => `exports[${JSON.stringify(name)}] = function v() { v.errors = null; return true; };`,
    ).join('\n');
  const cacheFileWith = (key: string, code: string) =>
    writeFileSync(join(dir, 'validators.cjs'), `// sluice-validators/1 key ${key} code ${sha256(code)}\n${code}`);

  test('the first process writes the cache, the next loads it; both agree with Ajv compiling on first use', () => {
    const first = freshProcess();
    expect(first.compiled.installCompiledValidators()).toBe('generated');
    const written = cacheText();
    const cached = freshProcess();
    expect(cached.compiled.installCompiledValidators()).toBe('cache');
    expect(cacheText()).toBe(written); // loaded, not written again
    const compiledOnUse = freshProcess(); // no cache installed: today's path
    // The cached process really runs the standalone functions: Ajv's own carry their compiled schema env.
    expect(cached.validation.validatorFor('ExecutionInput')).not.toHaveProperty('schemaEnv');
    expect(compiledOnUse.validation.validatorFor('ExecutionInput')).toHaveProperty('schemaEnv');

    for (const [name, sample] of SAMPLES) {
      const expected = verdictOf(compiledOnUse.validation, name, sample);
      expect(verdictOf(cached.validation, name, sample)).toEqual(expected);
      expect(verdictOf(first.validation, name, sample)).toEqual(expected);
    }
    // Defaults are filled in by both (skipCrawler, and the config's many defaults).
    expect(verdictOf(cached.validation, 'ExecutionInput', SAMPLES[1]![1]).value).toMatchObject({ skipCrawler: false });
    expect(verdictOf(cached.validation, 'SluiceConfig', localConfig)).toMatchObject({ valid: true });

    let invalid = 0;
    fc.assert(
      fc.property(fc.constantFrom(...SAMPLES), fc.nat(), change, ([name, sample], pick, how) => {
        const paths = pathsIn(sample);
        const input = changed(sample, paths[pick % paths.length]!, how);
        const expected = verdictOf(compiledOnUse.validation, name, input);
        expect(verdictOf(cached.validation, name, input)).toEqual(expected);
        if (!expected.valid) invalid += 1;
      }),
      { numRuns: 300 },
    );
    expect(invalid).toBeGreaterThan(50); // the changes mostly break the samples: errors are compared, not only passes
  });

  test('a cache made from other schemas is not used, and is replaced', () => {
    const current = freshProcess();
    const fingerprint = current.validation.validatorsFingerprint();
    const otherSchemas = fingerprint.replace('"required":["dataset","partition","executionArn"]', '"required":[]');
    expect(otherSchemas).not.toBe(fingerprint);
    expect(current.compiled.validatorsCacheKey(otherSchemas)).not.toBe(
      current.compiled.validatorsCacheKey(fingerprint),
    );

    cacheFileWith(current.compiled.validatorsCacheKey(otherSchemas), acceptAll(current.validation));
    expect(current.compiled.installCompiledValidators()).toBe('generated');
    expect(current.validation.validatorFor('StartJobRunInput')({})).toBe(false);
    expect(cacheText()).not.toContain('function v()');

    // Control: the same file under this checkout's key would be used, so it is the key that kept it out.
    const control = freshProcess();
    cacheFileWith(control.compiled.validatorsCacheKey(), acceptAll(control.validation));
    expect(control.compiled.installCompiledValidators()).toBe('cache');
    expect(control.validation.validatorFor('StartJobRunInput')({})).toBe(true);
  });

  test.each([
    ['not JavaScript', (text: string) => `${text.slice(0, text.indexOf('\n') + 1)}{not js`],
    ['cut short', (text: string) => text.slice(0, text.length / 2)],
    ['edited but still runnable', (text: string) => text.replaceAll('return errors === 0', 'return true')],
    ['empty', () => ''],
  ])('a cache that is %s is generated again; validation is unchanged', (_what, corrupt) => {
    writeFileSync(join(dir, 'validators.cjs'), corrupt(good));
    const next = freshProcess();
    expect(next.compiled.installCompiledValidators()).toBe('generated');
    expect(cacheText()).toBe(good);
    const reference = freshProcess().validation;
    for (const [name, sample] of SAMPLES)
      expect(verdictOf(next.validation, name, { ...(sample as object), extra: 1 })).toEqual(
        verdictOf(reference, name, { ...(sample as object), extra: 1 }),
      );
  });

  test('intact code that lacks a validator is not used', () => {
    const current = freshProcess();
    const code = acceptAll(current.validation).replace(/^.*"JobRunState".*$/m, '');
    cacheFileWith(current.compiled.validatorsCacheKey(), code);
    expect(current.compiled.installCompiledValidators()).toBe('generated');
    expect(current.validation.validatorFor('StartJobRunInput')({})).toBe(false);
  });

  test('a cache folder that cannot be written costs the cache, not validation', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    process.env.SLUICE_CACHE_DIR = join(blocker, 'cache'); // a folder under a file: mkdir fails
    const current = freshProcess();
    expect(current.compiled.installCompiledValidators()).toBe('generated');
    const [name, sample] = SAMPLES[4]!;
    expect(verdictOf(current.validation, name, sample)).toEqual(verdictOf(freshProcess().validation, name, sample));
  });

  test('if the code cannot be generated, Ajv compiles on first use as before', () => {
    let modules: { validation: Validation; compiled: Compiled } | undefined;
    jest.isolateModules(() => {
      const actual = jest.requireActual<Validation>('../../domain/common/validation');
      jest.doMock('../../domain/common/validation', () => ({
        ...actual,
        standaloneSource: () => {
          throw new Error('no code generation here');
        },
      }));
      modules = { validation: actual, compiled: jest.requireActual('../../adapters/local/compiled-validators') };
    });
    jest.dontMock('../../domain/common/validation');
    expect(modules!.compiled.installCompiledValidators()).toBe('compile-on-use');
    expect(modules!.validation.validatorFor('StartJobRunInput')).toHaveProperty('schemaEnv');
    const [name, sample] = SAMPLES[4]!;
    expect(verdictOf(modules!.validation, name, sample)).toMatchObject({ valid: true });
  });
});
