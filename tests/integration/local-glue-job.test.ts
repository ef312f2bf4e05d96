/**
 * The local Glue job's files (issue 14): it makes its temporary output folder, publishes it and writes its row
 * summary with as few file-system calls as it can (each call is made first and what is in its way is handled
 * after), and the summary and the folder go through libuv's thread pool. Whatever was there before, a run must
 * leave exactly one version of its partition and its summary, and nothing half-made.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobSummaryLocation, parseJobSummary } from '../../domain/rows';
import { jobArguments } from '../../domain/steps/jobs';
import { LocalEngine, quoteString } from '../../adapters/local/duckdb';
import { LocalJobs } from '../../adapters/local/glue';
import { LocalLake } from '../../adapters/local/lake';
import { testConfig } from '../support/fakes';

const config = testConfig();
const orders = config.datasets[0]!;
const day = { year: '2024', month: '01', day: '05' };
const CSV = 'id,amount\n1,1.50\n2,2.25\n';

let engine: LocalEngine;
let root: string;
let lake: LocalLake;

beforeAll(async () => {
  engine = await LocalEngine.open(2);
});
afterAll(() => engine.close());

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sluice-glue-job-'));
  lake = new LocalLake(root, 'raw-bucket', 'curated-bucket');
  const raw = join(lake.bucketDir('raw-bucket'), 'orders', 'year=2024', 'month=01', 'day=05');
  mkdirSync(raw, { recursive: true });
  writeFileSync(join(raw, 'data.csv'), CSV);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const partitionFolder = () => join(lake.bucketDir('curated-bucket'), 'orders', 'year=2024', 'month=01', 'day=05');

async function runJob(args = jobArguments(orders, day, 'sk1-test'), onEnd?: () => void) {
  const jobs = new LocalJobs(config, lake, engine, { now: () => new Date('2024-01-05T00:00:00Z') });
  if (onEnd) jobs.stateChanges.onStateChange(onEnd);
  const id = await jobs.startJobRun(orders.job.name, args);
  while (jobs.pending.size > 0) await Promise.all([...jobs.pending]);
  return { id, run: await jobs.getJobRun(orders.job.name, id), stats: jobs.statsFor(id) };
}

async function publishedRows(): Promise<unknown[]> {
  const rows = await engine.rows(
    `SELECT order_id::VARCHAR AS id, amount::VARCHAR AS amount FROM read_parquet(${quoteString(join(partitionFolder(), '*.parquet'))}) ORDER BY order_id`,
  );
  return rows.map((r) => [r.id, r.amount]);
}

test('a partition folder is made with its parents, published whole, and no temporary folder is left', async () => {
  const { run, stats } = await runJob();
  expect(run.state).toBe('SUCCEEDED');
  expect(stats).toMatchObject({ rowsIn: 2, rowsOut: 2, badRows: 0 });
  expect(readdirSync(partitionFolder())).toEqual(['part-00000.parquet']);
  expect(await publishedRows()).toEqual([
    ['1', '1.50'],
    ['2', '2.25'],
  ]);
  expect(readdirSync(join(partitionFolder(), '..')).filter((name) => name.includes('.tmp-'))).toEqual([]);
});

test('the leftover temporary folder of an interrupted run with the same id is emptied, not published with it', async () => {
  // Local run ids restart with each process: a crashed earlier process may have left this run's folder behind.
  const leftover = `${partitionFolder()}.tmp-jr_local_00001`;
  mkdirSync(leftover, { recursive: true });
  writeFileSync(join(leftover, 'part-00001.parquet'), 'half a file');
  const { run } = await runJob();
  expect(run.state).toBe('SUCCEEDED');
  expect(readdirSync(partitionFolder())).toEqual(['part-00000.parquet']);
  expect(existsSync(leftover)).toBe(false);
});

test('converting a partition again replaces its previous version: no file of the old one survives', async () => {
  mkdirSync(partitionFolder(), { recursive: true });
  await engine.run(
    `COPY (SELECT 9::BIGINT AS order_id, 9.99::DECIMAL(10,2) AS amount) TO ${quoteString(join(partitionFolder(), 'part-00007.parquet'))} (FORMAT parquet)`,
  );
  const { run } = await runJob();
  expect(run.state).toBe('SUCCEEDED');
  expect(readdirSync(partitionFolder())).toEqual(['part-00000.parquet']);
  expect(await publishedRows()).toEqual([
    ['1', '1.50'],
    ['2', '2.25'],
  ]);
});

test('an empty folder in the way is replaced too (a rename onto an empty folder succeeds)', async () => {
  mkdirSync(partitionFolder(), { recursive: true });
  const { run } = await runJob();
  expect(run.state).toBe('SUCCEEDED');
  expect(readdirSync(partitionFolder())).toEqual(['part-00000.parquet']);
});

test('the row summary is written, its folder made on the first one, before the run reports SUCCEEDED', async () => {
  const location = jobSummaryLocation('test-artifacts', 'orders', 'sk1-test');
  const args = jobArguments(orders, day, 'sk1-test', location);
  const summaryFile = join(root, 'test-artifacts', location.key);
  expect(existsSync(join(summaryFile, '..'))).toBe(false);
  // The run's end event (what wakes the state machine's wait) comes only once the summary is there.
  const atEnd: boolean[] = [];
  const first = await runJob(args, () => atEnd.push(existsSync(summaryFile)));
  expect(first.run.state).toBe('SUCCEEDED');
  expect(atEnd).toEqual([true]);
  expect(parseJobSummary(readFileSync(summaryFile, 'utf8'), 'summary', first.id)).toEqual({ in: 2, out: 2, bad: 0 });
  // A second run of the same key (another process: run ids restart) replaces the summary in the existing folder.
  writeFileSync(join(lake.bucketDir('raw-bucket'), 'orders', 'year=2024', 'month=01', 'day=05', 'more.csv'), CSV);
  const second = await runJob(args);
  expect(second.run.state).toBe('SUCCEEDED');
  expect(parseJobSummary(readFileSync(summaryFile, 'utf8'), 'summary', second.id)).toEqual({ in: 4, out: 4, bad: 0 });
  expect(readdirSync(join(summaryFile, '..'))).toEqual(['sk1-test.json']);
});

test('a run over its bad-rows limit publishes nothing, keeps every bad row, and leaves no temporary folder', async () => {
  writeFileSync(
    join(lake.bucketDir('raw-bucket'), 'orders', 'year=2024', 'month=01', 'day=05', 'data.csv'),
    'id,amount\n1,1.50\nx,2.25\n',
  );
  const { run, stats } = await runJob();
  expect(run.state).toBe('FAILED');
  expect(stats).toMatchObject({ rowsIn: 2, rowsOut: 1, badRows: 1 });
  expect(existsSync(partitionFolder())).toBe(false);
  expect(readdirSync(join(partitionFolder(), '..'))).toEqual([]);
  const rejects = await engine.rows(
    `SELECT sluice_reject_reason AS reason, id FROM read_csv(${quoteString(stats?.rejectsFile ?? '')}, header = true, all_varchar = true)`,
  );
  expect(rejects).toEqual([{ reason: 'id is not bigint', id: 'x' }]);
});

test('a run whose conversion fails leaves no temporary folder and publishes nothing', async () => {
  // Counted by its line breaks (no quotes), so DuckDB first reads it in the COPY, which refuses the extra field.
  writeFileSync(
    join(lake.bucketDir('raw-bucket'), 'orders', 'year=2024', 'month=01', 'day=05', 'data.csv'),
    'id,amount\n1,1.50,extra\n',
  );
  const { run } = await runJob();
  expect(run).toMatchObject({ state: 'FAILED', errorMessage: expect.stringMatching(/column|field/i) });
  expect(existsSync(partitionFolder())).toBe(false);
  expect(readdirSync(join(partitionFolder(), '..'))).toEqual([]);
});
