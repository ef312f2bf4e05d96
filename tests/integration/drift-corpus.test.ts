/**
 * The drift corpus classified by the same rules through both byte readers: local files, and S3 objects read with
 * ranged GETs from the loopback S3 fake by the real SDK (issue 24). Prints `drift corpus: cases N correct M` per
 * reader (`drift corpus: cases 15 correct 15 (local files)`, and the same with `(S3 fake, ranged GETs)`).
 * Each file costs one ranged GET (CSV, JSON lines) or two (Parquet: trailer, then footer).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { s3RangeReader } from '../../adapters/aws/s3-ranges';
import { fileRangeReader } from '../../adapters/local/file-ranges';
import {
  HEAD_BYTES,
  UnreadableSchemaError,
  classifyDrift,
  crawlerDecision,
  fingerprintOf,
  readFileSchema,
  type ReadRange,
} from '../../domain/drift/schema-drift';
import { startAwsFakes, type AwsFakes } from '../support/aws-fakes';
import { BASE, CORPUS, MAPPING, materialize, type DriftCase, type Expected } from '../support/drift-corpus';

type ReaderOf = (path: string) => ReadRange;

async function classify(file: string, format: DriftCase['format'], read: ReadRange) {
  try {
    const schema = await readFileSchema(file, format, read);
    return { expected: classifyDrift(schema, MAPPING).class as Expected, fingerprint: fingerprintOf(schema, MAPPING) };
  } catch (error) {
    if (error instanceof UnreadableSchemaError) {
      expect(error.message.startsWith(file)).toBe(true);
      return { expected: 'unreadable' as Expected, fingerprint: undefined };
    }
    throw error;
  }
}

/** Runs the corpus through one reader; returns the mismatches, naming case and file. */
async function runCorpus(readerOf: ReaderOf): Promise<{ correct: number; wrong: string[] }> {
  const wrong: string[] = [];
  let correct = 0;
  for (const testCase of CORPUS) {
    const base = await classify(BASE[testCase.format].path, testCase.format, readerOf(BASE[testCase.format].path));
    const prints: string[] = [];
    let right = true;
    for (const file of testCase.files) {
      const path = join(testCase.name.replace(/ /g, '_'), file.path);
      const got = await classify(path, testCase.format, readerOf(path));
      if (got.fingerprint) prints.push(got.fingerprint);
      if (got.expected !== file.expected) {
        right = false;
        wrong.push(`${testCase.name}: ${file.path} is ${got.expected}, expected ${file.expected}`);
      }
    }
    const decision = crawlerDecision({
      when: 'schema-change',
      fingerprints: prints,
      seenFingerprints: new Set([base.fingerprint!]),
      rawTableExists: true,
    });
    if (decision.crawl !== testCase.expectCrawl) {
      right = false;
      wrong.push(`${testCase.name}: crawl ${decision.crawl} (${decision.reason}), expected ${testCase.expectCrawl}`);
    }
    if (right) correct += 1;
  }
  return { correct, wrong };
}

let root: string;
let fakes: AwsFakes;
let s3: S3Client;
const saved = { ...process.env };
const files: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sluice-drift-'));
  const duck = await DuckDBInstance.create(':memory:');
  for (const format of ['csv', 'json', 'parquet'] as const) {
    await materialize(root, BASE[format], duck);
    files.push(BASE[format].path);
  }
  for (const testCase of CORPUS)
    for (const file of testCase.files) {
      const path = join(testCase.name.replace(/ /g, '_'), file.path);
      await materialize(root, { ...file, path }, duck);
      files.push(path);
    }
  duck.closeSync();
  fakes = await startAwsFakes('eu-west-1');
  Object.assign(process.env, fakes.env);
  s3 = new S3Client({ maxAttempts: 1 });
  fakes.s3.createBucket('raw');
  for (const path of files) fakes.s3.put('raw', path, readFileSync(join(root, path)));
});

afterAll(async () => {
  s3.destroy();
  for (const key of Object.keys(fakes.env)) delete process.env[key];
  Object.assign(process.env, saved);
  await fakes.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('drift corpus', () => {
  test('has at least 12 cases, every class and both crawler decisions', () => {
    const classes = new Set(CORPUS.flatMap((c) => c.files.map((f) => f.expected)));
    expect(CORPUS.length).toBeGreaterThanOrEqual(12);
    expect([...classes].sort()).toEqual(['additive', 'breaking', 'none', 'unreadable']);
    expect(new Set(CORPUS.map((c) => c.expectCrawl))).toEqual(new Set([true, false]));
  });

  test('drift: local files are classified 100 % right', async () => {
    const { correct, wrong } = await runCorpus((path) => fileRangeReader(join(root, path)));
    process.stdout.write(`drift corpus: cases ${CORPUS.length} correct ${correct} (local files)\n`);
    expect(wrong).toEqual([]);
  });

  test('drift: S3 objects through ranged GETs are classified 100 % right, one GET per text file, two per Parquet', async () => {
    const before = fakes.server.callsOf('s3', 'GetObject').length;
    const { correct, wrong } = await runCorpus((path) => s3RangeReader(s3, 'raw', path));
    process.stdout.write(`drift corpus: cases ${CORPUS.length} correct ${correct} (S3 fake, ranged GETs)\n`);
    expect(wrong).toEqual([]);
    const reads = CORPUS.reduce((sum, c) => sum + (1 + c.files.length) * (c.format === 'parquet' ? 2 : 1), 0);
    expect(fakes.server.callsOf('s3', 'GetObject').length - before).toBe(reads);
  });

  test('drift: a head read never fetches more than the head, even of a large file', async () => {
    const big = Buffer.from(`id,name,amount\n${'1,a,1\n'.repeat(100_000)}`);
    fakes.s3.put('raw', 'big.csv', big);
    const sizes: number[] = [];
    const read = s3RangeReader(s3, 'raw', 'big.csv');
    await readFileSchema('big.csv', 'csv', async (range) => {
      const bytes = await read(range);
      sizes.push(bytes.length);
      return bytes;
    });
    expect(sizes).toEqual([HEAD_BYTES]);
  });
});
