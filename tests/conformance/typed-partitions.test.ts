/**
 * Typed partitions everywhere on the local side: the catalog and `query` type partition columns as the config
 * says (int -> INTEGER, date -> DATE, string -> VARCHAR), and the crawler registers no partition whose only
 * object is one the intake rejects (a zero-byte file).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addPartitionsStatement } from '../../domain/steps/athena';
import { LocalQueries } from '../../adapters/local/athena';
import { LocalEngine, quoteString } from '../../adapters/local/duckdb';
import { LocalCrawlers } from '../../adapters/local/crawler';
import { LocalLake } from '../../adapters/local/lake';
import { testConfig } from '../support/fakes';

const config = testConfig();
const [orders, clicks] = config.datasets;
let engine: LocalEngine;
let root: string;
let lake: LocalLake;

beforeAll(async () => {
  engine = await LocalEngine.open(2);
  root = mkdtempSync(join(tmpdir(), 'sluice-typed-'));
  lake = new LocalLake(root, config.lake.rawBucket, config.lake.curatedBucket);
});

afterAll(() => {
  engine.close();
  rmSync(root, { recursive: true, force: true });
});

test('query types partition columns as the config says, with and without registered partitions', async () => {
  const queries = new LocalQueries(config, lake, engine);
  queries.ensureTargetTables();
  for (const day of ['05', '06']) {
    const folder = join(lake.bucketDir(config.lake.curatedBucket), `orders/year=2024/month=01/day=${day}`);
    mkdirSync(folder, { recursive: true });
    await engine.run(
      `COPY (SELECT 1::BIGINT AS order_id, 2.5::DECIMAL(10,2) AS amount) TO ${quoteString(join(folder, 'part-00000.parquet'))} (FORMAT parquet)`,
    );
  }
  const id = await queries.startQuery({
    sql: addPartitionsStatement(orders!, [
      { year: '2024', month: '01', day: '05' },
      { year: '2024', month: '01', day: '06' },
    ]),
    database: orders!.target.database,
    workgroup: 'primary',
    clientRequestToken: 't1',
  });
  expect(await queries.getQuery(id)).toEqual({ state: 'SUCCEEDED' });
  const rows = await queries.query(
    'SELECT typeof(year) AS y, typeof(month) AS m, typeof("day") AS d, month, "day" FROM orders ORDER BY "day"',
  );
  expect(rows).toEqual([
    { y: 'INTEGER', m: 'INTEGER', d: 'INTEGER', month: 1, day: 5 },
    { y: 'INTEGER', m: 'INTEGER', d: 'INTEGER', month: 1, day: 6 },
  ]);
  const described = await queries.query('DESCRIBE SELECT * FROM clicks');
  expect(described.map((c) => [c.column_name, c.column_type])).toEqual([
    ['user_id', 'VARCHAR'],
    ['dt', 'DATE'],
    ['hour', 'VARCHAR'],
  ]);
  const catalog = lake.readCatalog();
  expect(catalog.tables[`${orders!.target.database}.${orders!.target.table}`]?.partitionColumns).toEqual([
    { name: 'year', type: 'int' },
    { name: 'month', type: 'int' },
    { name: 'day', type: 'int' },
  ]);
  expect(catalog.tables[`${clicks!.target.database}.${clicks!.target.table}`]?.partitionColumns).toEqual([
    { name: 'dt', type: 'date' },
    { name: 'hour', type: 'string' },
  ]);
});

test('the crawler registers no partition whose only object is a zero-byte file', async () => {
  const raw = lake.bucketDir(config.lake.rawBucket);
  const write = (key: string, body: string) => {
    mkdirSync(join(raw, key, '..'), { recursive: true });
    writeFileSync(join(raw, key), body);
  };
  write('orders/year=2024/month=01/day=05/a.csv', 'id,amount\n1,2.50\n');
  write('orders/year=2024/month=01/day=06/empty.csv', '');
  write('orders/year=2024/month=01/day=07/_SUCCESS', 'x');
  const crawlers = new LocalCrawlers(config, lake, engine, { now: () => new Date('2024-01-05T00:00:00Z') });
  expect(await crawlers.startCrawler(orders!.crawler.name)).toBe('started');
  let status = await crawlers.getCrawlerStatus(orders!.crawler.name);
  while (status.state !== 'READY') {
    await new Promise((resolve) => setImmediate(resolve));
    status = await crawlers.getCrawlerStatus(orders!.crawler.name);
  }
  expect(status.lastCrawl?.status).toBe('SUCCEEDED');
  const table = lake.readCatalog().tables[`sluice_${config.stage}_raw.orders`];
  expect(Object.keys(table?.partitions ?? {})).toEqual(['year=2024/month=01/day=05']);
  expect(table?.partitionColumns).toEqual([
    { name: 'year', type: 'int' },
    { name: 'month', type: 'int' },
    { name: 'day', type: 'int' },
  ]);
});
