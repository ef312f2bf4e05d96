/**
 * Issue 24 on the AWS adapters: the drift step's core over the real SDK against the loopback S3 and Glue fakes
 * (ListObjectsV2 per partition, one ranged GET per CSV file, GetTable) and the fingerprint items on the in-memory
 * DynamoDB (held equal to moto by tests/protocol/adapters-agree.test.ts). Same rules as the local side
 * (tests/integration/drift-runs.test.ts): breaking partitions fail before any job, additive columns are named
 * once, and the crawler runs only when it can learn something.
 */
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AwsDrift, DynamoFingerprints } from '../../adapters/aws/schema-drift';
import { MemoryDynamo } from '../../adapters/memory/dynamo';
import type { Log } from '../../domain/common';
import { checkCrawledSchema, checkSchemas } from '../../domain/steps';
import type { JobRunResult, SchemaDrift } from '../../schemas/types.generated';
import { startAwsFakes, type AwsFakes } from '../support/aws-fakes';
import { fakeWorld, type FakeWorld } from '../support/fakes';

const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:run-1';
const saved = { ...process.env };
let fakes: AwsFakes;
let s3: S3Client;
let glue: GlueClient;

beforeAll(async () => {
  fakes = await startAwsFakes('eu-west-1');
  Object.assign(process.env, fakes.env);
  s3 = new S3Client({ maxAttempts: 1 });
  glue = new GlueClient({ maxAttempts: 1 });
});

afterAll(async () => {
  s3.destroy();
  glue.destroy();
  for (const key of Object.keys(fakes.env)) delete process.env[key];
  Object.assign(process.env, saved);
  await fakes.stop();
});

const day = (d: number) => ({ year: '2024', month: '01', day: String(d).padStart(2, '0') });
const key = (d: number, name = 'part.csv') => `orders/year=2024/month=01/day=${String(d).padStart(2, '0')}/${name}`;

function world(): { w: FakeWorld; fingerprints: DynamoFingerprints } {
  const w = fakeWorld();
  const store = new MemoryDynamo(() => Date.now());
  store.createTable('state');
  const doc = store.doc as unknown as DynamoDBDocumentClient;
  w.deps.drift = new AwsDrift(s3, glue, doc, 'state');
  return { w, fingerprints: new DynamoFingerprints(doc, 'state') };
}

async function run(w: FakeWorld, days: number[], executionArn = ARN, budgetMs?: number): Promise<SchemaDrift> {
  const list = { bucket: w.artifacts.bucket, key: `lists/${executionArn.split(':').pop()}.json` };
  await w.artifacts.put(list, JSON.stringify(days.map(day)));
  return checkSchemas(
    {
      dataset: 'orders',
      executionArn,
      run: { skipCrawler: false },
      debounce: { settled: true, items: { ...list, count: days.length } },
    },
    w.deps,
    quiet,
    budgetMs,
  );
}

beforeEach(() => {
  fakes.reset();
  fakes.s3.createBucket('raw-bucket');
});

describe('schema drift on the AWS adapters (issue 24)', () => {
  test('drift: one list per partition, one ranged GET per file; breaking fails its partition, additive is named', async () => {
    fakes.s3.put('raw-bucket', key(1), 'id,amount\n1,2.5\n');
    fakes.s3.put('raw-bucket', key(1, '_SUCCESS'), 'x'); // excluded like the crawler's `**/_*`
    fakes.s3.put('raw-bucket', key(1, 'empty.csv'), ''); // a zero-byte object holds no schema
    fakes.s3.put('raw-bucket', key(2), 'id,total\n2,3.5\n'); // amount missing: breaking
    fakes.s3.put('raw-bucket', key(3), 'id,amount,channel\n3,1.0,web\n'); // additive
    const { w } = world();
    const lists = fakes.server.callsOf('s3', 'ListObjectsV2').length;
    const gets = fakes.server.callsOf('s3', 'GetObject').length;
    const drift = await run(w, [1, 2, 3]);
    expect(fakes.server.callsOf('s3', 'ListObjectsV2').length - lists).toBe(3);
    expect(fakes.server.callsOf('s3', 'GetObject').length - gets).toBe(3);
    expect(drift).toMatchObject({
      files: 3,
      failedCount: 1,
      items: { count: 2 },
      crawl: true,
      crawlReason: 'the raw table does not exist yet',
    });
    const failures = JSON.parse((await w.artifacts.get(drift.failures))!) as JobRunResult[];
    expect(failures).toEqual([
      {
        partition: day(2),
        ok: false,
        state: 'SCHEMA_DRIFT',
        message: 'year=2024/month=01/day=02/part.csv: breaking schema drift: lacks mapped column amount',
      },
    ]);
    expect(JSON.parse((await w.artifacts.get(drift.items))!)).toEqual([day(1), day(3)]);
    expect(drift.info).toEqual([
      expect.stringMatching(/^orders: new column channel \(not in the mapping\), first in orders\/.*day=03\/part.csv/),
    ]);
  });

  test('drift: a retry finds its own fingerprints new; a crawl marks them; the next run does not crawl', async () => {
    fakes.s3.put('raw-bucket', key(1), 'id,amount\n1,2.5\n');
    const { w, fingerprints } = world();
    const first = await run(w, [1]);
    const retried = await run(w, [1]); // the same execution again (a Lambda retry)
    expect(retried.newFingerprints).toEqual(first.newFingerprints);
    expect(first.newFingerprints).toHaveLength(1);
    // The crawl wrote the raw table (Glue lower-cases names); the check agrees with the fingerprints and marks them.
    fakes.glue.tables.set('sluice_test_raw.orders', [
      { Name: 'id', Type: 'bigint' },
      { Name: 'amount', Type: 'double' },
      { Name: 'year', Type: 'string' },
    ]);
    const check = await checkCrawledSchema({ dataset: 'orders', executionArn: ARN, drift: first }, w.deps, quiet);
    expect(check).toEqual({
      table: 'sluice_test_raw.orders',
      class: 'none',
      newColumns: [],
      missingColumns: [],
      disagreements: [],
    });
    expect((await fingerprints.list('orders')).map((r) => r.crawledAt)).toEqual([expect.any(String)]);
    fakes.s3.put('raw-bucket', key(2), 'amount,id\n2.5,2\n'); // reordered: the same fingerprint
    const next = await run(w, [2], `${ARN}-2`);
    expect(next).toMatchObject({
      crawl: false,
      crawlReason: 'no new schema fingerprint since the last crawl',
      newFingerprints: [],
    });
  });

  test('drift: the crawled table disagreeing with the fingerprints is reported', async () => {
    fakes.s3.put('raw-bucket', key(1), 'id,amount\n1,2.5\n');
    const { w } = world();
    const drift = await run(w, [1]);
    fakes.glue.tables.set('sluice_test_raw.orders', [
      { Name: 'id', Type: 'bigint' },
      { Name: 'amount', Type: 'struct<a:int>' },
      { Name: 'legacy', Type: 'string' },
    ]);
    const check = await checkCrawledSchema({ dataset: 'orders', executionArn: ARN, drift }, w.deps, quiet);
    expect(check.class).toBe('breaking');
    expect(check.disagreements).toEqual([
      "the crawled table has column legacy, which no file's fingerprint has",
      "the crawled table says column amount is struct, which the contract cannot cast; the files' fingerprints did not show it",
    ]);
  });

  test('drift: what is not read within the time budget goes on unchecked, and the crawler runs', async () => {
    fakes.s3.put('raw-bucket', key(1), 'id,amount\n1,2.5\n');
    fakes.s3.put('raw-bucket', key(2), 'id,total\n2,3.5\n'); // breaking, but never read
    const { w, fingerprints } = world();
    fakes.glue.tables.set('sluice_test_raw.orders', [{ Name: 'id', Type: 'bigint' }]);
    const gets = fakes.server.callsOf('s3', 'GetObject').length;
    const drift = await run(w, [1, 2], ARN, 0);
    expect(fakes.server.callsOf('s3', 'GetObject').length - gets).toBe(0);
    expect(drift).toMatchObject({
      files: 0,
      uncheckedPartitions: 2,
      failedCount: 0,
      items: { count: 2 },
      crawl: true,
      crawlReason: "2 partitions were not (fully) checked within the step's time budget",
    });
    expect(await fingerprints.list('orders')).toEqual([]);
  });

  test('fingerprint items: first writer wins, marking is idempotent, unknown fingerprints are ignored', async () => {
    const { fingerprints } = world();
    const base = {
      dataset: 'orders',
      fingerprint: '0123456789abcdef',
      format: 'csv' as const,
      columns: [{ name: 'id' }],
      class: 'breaking' as const,
      newColumns: [],
      missingColumns: ['amount'],
      uncastableColumns: [],
      firstFile: 'orders/a.csv',
      firstRun: 'run-a',
      firstSeenAt: '2024-01-01T00:00:00.000Z',
    };
    expect(await fingerprints.record(base)).toEqual(base);
    expect(await fingerprints.record({ ...base, firstRun: 'run-b', firstFile: 'orders/b.csv' })).toEqual(base);
    await fingerprints.markCrawled('orders', ['0123456789abcdef', 'ffffffffffffffff'], '2024-01-02T00:00:00.000Z');
    await fingerprints.markCrawled('orders', ['0123456789abcdef'], '2024-01-03T00:00:00.000Z');
    expect(await fingerprints.list('orders')).toEqual([{ ...base, crawledAt: '2024-01-02T00:00:00.000Z' }]);
  });
});
