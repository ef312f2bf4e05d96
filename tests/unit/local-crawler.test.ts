/**
 * Issue 25, item 3: a file the local crawler cannot read (a JSON array where JSON lines are expected, binary bytes
 * in a CSV) never fails the crawl. It is noted against its partition in the raw table, the readable files still
 * give the schema, and every partition stays registered (its job run then fails alone, naming the file).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LocalCrawlers, unreadableReason } from '../../adapters/local/crawler';
import { LocalEngine } from '../../adapters/local/duckdb';
import { LocalLake } from '../../adapters/local/lake';
import { testConfig } from '../support/fakes';

const config = testConfig();
const [orders, clicks] = config.datasets;
let engine: LocalEngine;
let root: string;
let lake: LocalLake;

beforeAll(async () => {
  engine = await LocalEngine.open(2);
});

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sluice-crawler-'));
  lake = new LocalLake(root, config.lake.rawBucket, config.lake.curatedBucket);
});

afterEach(() => rmSync(root, { recursive: true, force: true }));
afterAll(() => engine.close());

function land(key: string, body: string | Buffer): void {
  const path = join(lake.bucketDir(config.lake.rawBucket), key);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
}

async function crawl(name: string) {
  const crawlers = new LocalCrawlers(config, lake, engine, { now: () => new Date('2024-01-05T00:00:00Z') });
  expect(await crawlers.startCrawler(name)).toBe('started');
  let status = await crawlers.getCrawlerStatus(name);
  while (status.state !== 'READY') {
    await new Promise((resolve) => setTimeout(resolve, 1));
    status = await crawlers.getCrawlerStatus(name);
  }
  return status;
}

/** Bytes that are neither UTF-8 text nor CSV: a NUL, invalid UTF-8, line breaks at random. */
const GARBAGE = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) % 256));

test('a JSON array file is noted against its partition; the crawl succeeds and the schema comes from the rest', async () => {
  land('events/clicks/2024-02-01/10/a.json', '{"user":"u1","page":"/p/1","ms":120}\n');
  land('events/clicks/2024-02-02/10/array.json', '[\n  {"user":"u2","page":"/p/2","ms":5},\n  {"user":"u3"}\n]\n');
  const status = await crawl(clicks!.crawler.name);
  expect(status.lastCrawl).toMatchObject({ status: 'SUCCEEDED' });
  const table = lake.readCatalog().tables[`sluice_${config.stage}_raw.clicks`];
  expect(Object.keys(table?.partitions ?? {}).sort()).toEqual(['dt=2024-02-01/hour=10', 'dt=2024-02-02/hour=10']);
  expect(table?.columns.map((c) => c.name)).toEqual(['user', 'page', 'ms']);
  expect(table?.unreadable).toEqual({
    'dt=2024-02-02/hour=10': {
      file: 'events/clicks/2024-02-02/10/array.json',
      reason: expect.stringMatching(/^not JSON lines \(sluice reads one JSON object per line; .*\): .*Malformed JSON/),
    },
  });
});

test('a garbage CSV is noted; a later crawl where it was replaced forgets the note', async () => {
  land('orders/year=2024/month=01/day=05/a.csv', 'order_id,amount\n1,2.50\n');
  land('orders/year=2024/month=01/day=06/garbage.csv', GARBAGE);
  expect((await crawl(orders!.crawler.name)).lastCrawl?.status).toBe('SUCCEEDED');
  let table = lake.readCatalog().tables[`sluice_${config.stage}_raw.orders`];
  // (DuckDB adds the hive folders' keys as columns, as it did before this change.)
  expect(table?.columns.map((c) => c.name)).toEqual(expect.arrayContaining(['order_id', 'amount']));
  expect(Object.keys(table?.unreadable ?? {})).toEqual(['year=2024/month=01/day=06']);
  expect(table?.unreadable?.['year=2024/month=01/day=06']?.reason).toMatch(/^not readable as CSV with a header line: /);

  rmSync(join(lake.bucketDir(config.lake.rawBucket), 'orders/year=2024/month=01/day=06/garbage.csv'));
  land('orders/year=2024/month=01/day=06/fixed.csv', 'order_id,amount\n2,3.50\n');
  // new-folders-only recrawls do not resample known partitions; "everything" does.
  orders!.crawler.recrawl = 'everything';
  try {
    expect((await crawl(orders!.crawler.name)).lastCrawl?.status).toBe('SUCCEEDED');
  } finally {
    orders!.crawler.recrawl = 'new-folders-only';
  }
  table = lake.readCatalog().tables[`sluice_${config.stage}_raw.orders`];
  expect(table?.unreadable).toBeUndefined();
});

test('when no sampled file is readable, the crawl still succeeds with the columns it knew (none on a first crawl)', async () => {
  land('orders/year=2024/month=01/day=06/garbage.csv', GARBAGE);
  expect((await crawl(orders!.crawler.name)).lastCrawl?.status).toBe('SUCCEEDED');
  const table = lake.readCatalog().tables[`sluice_${config.stage}_raw.orders`];
  expect(table?.columns).toEqual([]);
  expect(Object.keys(table?.partitions ?? {})).toEqual(['year=2024/month=01/day=06']);
});

test('the reason says what sluice expects first, then the engine’s first line, clipped', () => {
  const long = new Error(`Invalid Input Error: ${'x'.repeat(400)}\nLINE 1: DESCRIBE ...`);
  const reason = unreadableReason('json', long);
  expect(reason.startsWith('not JSON lines')).toBe(true);
  expect(reason).not.toContain('LINE 1');
  expect(reason.length).toBeLessThan(320);
});
