/**
 * End to end through the CLI (`npm start` is `sluice demo`): the real ASL, the real steps, DuckDB and files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BROKEN_ROWS, CLICK_DAYS, CLICKS_PER_DAY, ORDER_DAYS, ORDERS_PER_FILE } from '../../adapters/local/demo-data';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function cli(...args: string[]): { code: number; json: Record<string, unknown>; stdout: string } {
  const result = spawnSync(
    TSX,
    [join(ROOT, 'adapters/local/cli.ts'), ...args, '--json', '--quiet-ms', '200', '--poll-ms', '20'],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  if (result.status === null) throw new Error(`cli did not finish: ${result.stderr}`);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`not JSON (exit ${result.status}): ${result.stdout}\n${result.stderr}`);
  }
  return { code: result.status, json, stdout: result.stdout };
}

describe('sluice demo, then run again', () => {
  const lake = join(mkdtempSync(join(tmpdir(), 'sluice-e2e-')), 'lake');
  let demo: ReturnType<typeof cli>;
  beforeAll(() => {
    demo = cli('demo', '--lake', lake);
  }, 90_000);

  test('ends with exit code 0 and two successful runs', () => {
    expect(demo.code).toBe(0);
    expect((demo.json.runs as Array<{ status: string }>).map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });

  test('writes curated Parquet for every partition', () => {
    for (const day of ORDER_DAYS)
      expect(readdirSync(join(lake, 'curated/orders/year=2024/month=01', `day=${day}`))).toEqual([
        'part-00000.parquet',
      ]);
    for (const dt of CLICK_DAYS)
      expect(existsSync(join(lake, `curated/clicks/dt=${dt}/part-00000.parquet`))).toBe(true);
  });

  test('the sample query returns every row that could be cast, per partition', () => {
    const rows = (demo.json.query as { rows: Array<{ day: number | string; orders: number | string }> }).rows;
    // `day` is an int partition key: typed in the target table (a number), as the config declares it.
    expect(rows.map((r) => [Number(r.day), Number(r.orders)])).toEqual(
      ORDER_DAYS.map((day) => [
        Number(day),
        2 * ORDERS_PER_FILE + (day === '03' ? BROKEN_ROWS.total - BROKEN_ROWS.bad : 0),
      ]),
    );
  });

  test('reports the bad rows and the misplaced file, and loses nothing else', () => {
    const rows = demo.json.rows as { in: number; out: number; bad: number };
    const expectedIn = ORDER_DAYS.length * 2 * ORDERS_PER_FILE + BROKEN_ROWS.total + CLICK_DAYS.length * CLICKS_PER_DAY;
    expect(rows).toEqual({ in: expectedIn, out: expectedIn - BROKEN_ROWS.bad, bad: BROKEN_ROWS.bad });
    const rejects = readFileSync(join(ROOT, (demo.json.rejectsFiles as string[])[0] ?? ''), 'utf8');
    expect(rejects.trim().split('\n')).toHaveLength(1 + BROKEN_ROWS.bad);
    expect(rejects).toContain('amount is not decimal(12,2)');
    expect(demo.json.intake).toMatchObject({
      accepted: 12,
      rejected: [
        { key: 'orders/2024-01-05-misplaced.csv', reason: expect.stringContaining('does not follow the layout') },
      ],
    });
  });

  test('a second run with no new data starts nothing', () => {
    const again = cli('run', '--lake', lake);
    expect(again.code).toBe(0);
    expect(again.json.runs).toEqual([]);
    expect(again.json.intake).toMatchObject({ accepted: 0, duplicates: 12 });
  }, 60_000);

  test('query answers over registered partitions only', () => {
    const q = cli('query', 'SELECT count(*) AS n FROM clicks', '--lake', lake);
    expect(q.json).toEqual([{ n: CLICK_DAYS.length * CLICKS_PER_DAY }]); // a BIGINT that a JSON number holds exactly
  }, 60_000);
});

test('a partition whose values cannot be cast fails alone: SNS message written, exit code non-zero', () => {
  const lake = join(mkdtempSync(join(tmpdir(), 'sluice-fail-')), 'lake');
  const land = (key: string, body: string) => {
    mkdirSync(dirname(join(lake, 'raw', key)), { recursive: true });
    writeFileSync(join(lake, 'raw', key), body);
  };
  const header = 'order_id,customer,amount,ordered_at\n';
  land(
    'orders/year=2024/month=02/day=01/a.csv',
    header + '1,c,1.50,2024-02-01 10:00:00\n2,c,2.50,2024-02-01 11:00:00\n',
  );
  land('orders/year=2024/month=02/day=02/a.csv', header + 'x1,c,lots,never\nx2,c,more,never\n');
  land('orders/year=2024/month=02/day=03/a.csv', header + '3,c,3.50,2024-02-03 10:00:00\n');

  const run = cli('run', '--lake', lake);

  expect(run.code).toBe(1);
  expect(run.json.partitions).toEqual({ succeeded: 2, failed: 1 });
  expect((run.json.runs as Array<{ failedStep: string }>)[0]?.failedStep).toBe('processPartitions');
  const [message] = readFileSync(join(lake, 'notifications.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { subject: string; message: string });
  expect(message?.subject).toBe('sluice local: orders failed at processPartitions');
  expect(message?.message).toContain('{"year":"2024","month":"02","day":"02"}  FAILED: 2 of 2 rows could not be cast');
  // Issue 12: the re-run input names the failed partitions stored as an object under the lake's artifacts folder.
  const rerun =
    /\{"dataset":"orders","manifest":"s3:\/\/([^/"]+)\/([^"]+\/failed-partitions\.json)","skipCrawler":true\}/.exec(
      message?.message ?? '',
    );
  expect(rerun).not.toBeNull();
  expect(JSON.parse(readFileSync(join(lake, rerun![1]!, rerun![2]!), 'utf8'))).toEqual([
    { year: '2024', month: '02', day: '02' },
  ]);
  expect(existsSync(join(lake, 'curated/orders/year=2024/month=02/day=01/part-00000.parquet'))).toBe(true);
  expect(existsSync(join(lake, 'curated/orders/year=2024/month=02/day=03/part-00000.parquet'))).toBe(true);
  expect(existsSync(join(lake, 'curated/orders/year=2024/month=02/day=02'))).toBe(false);
}, 90_000);

describe('operate commands over the local run history (status, runs, rerun, logs, backfill)', () => {
  const lake = join(mkdtempSync(join(tmpdir(), 'sluice-operate-')), 'lake');
  const header = 'order_id,customer,amount,ordered_at\n';
  let failedRun: string;
  beforeAll(() => {
    const land = (key: string, body: string) => {
      mkdirSync(dirname(join(lake, 'raw', key)), { recursive: true });
      writeFileSync(join(lake, 'raw', key), body);
    };
    land('orders/year=2024/month=02/day=01/a.csv', header + '1,c,1.50,2024-02-01 10:00:00\n');
    land('orders/year=2024/month=02/day=02/a.csv', header + 'x1,c,lots,never\n');
    land('events/clicks/2024-02-01/a.json', '{"user":"u1","page":"/p/1","ms":120}\n');
    expect(cli('run', '--lake', lake).code).toBe(1);
    const failed = cli('runs', '--lake', lake, '--failed').json as unknown as Array<{ name: string }>;
    failedRun = failed[0]?.name ?? '';
  }, 90_000);

  test('status: per dataset the last run with its result and duration, and freshness', () => {
    const status = cli('status', '--lake', lake).json as {
      datasets: Array<{ dataset: string; lastRun: { status: string; startedAt: string; stoppedAt: string } | null }>;
    };
    const byName = Object.fromEntries(status.datasets.map((d) => [d.dataset, d]));
    expect(byName.orders?.lastRun?.status).toBe('FAILED');
    expect(byName.clicks?.lastRun?.status).toBe('SUCCEEDED');
    for (const d of status.datasets) {
      expect(Date.parse(d.lastRun!.stoppedAt)).toBeGreaterThanOrEqual(Date.parse(d.lastRun!.startedAt));
      // Both runs registered partitions, so both datasets have a queryable arrival.
      expect(d).toMatchObject({ lease: null, pending: null, freshnessSeconds: expect.any(Number) });
    }
  }, 60_000);

  test('runs --failed: partitions processed and failed, and the failure reason from the notification', () => {
    const runs = cli('runs', '--lake', lake, '--failed', '--dataset', 'orders').json as unknown as Array<
      Record<string, unknown>
    >;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      dataset: 'orders',
      status: 'FAILED',
      partitions: { processed: 1, failed: 1 },
      failure: { step: 'processPartitions', error: 'JobRunsFailed', cause: '1 of 2 partition job runs failed' },
      rerunInput: {
        dataset: 'orders',
        manifest: expect.stringMatching(/\/failed-partitions\.json$/),
        skipCrawler: true,
      },
    });
    expect(cli('runs', '--lake', lake, '--failed', '--dataset', 'clicks').json).toEqual([]);
  }, 60_000);

  test('rerun <execution>: a new run of exactly the stored re-run input', () => {
    const rerun = cli('rerun', failedRun, '--lake', lake);
    expect(rerun.code).toBe(1); // the data is still bad
    expect(rerun.json).toMatchObject({ status: 'FAILED', partitions: { processed: 0, failed: 1 } });
    expect(String(rerun.json.name)).toMatch(/^orders-rerun-\d{17}-[a-z0-9]+$/);
  }, 60_000);

  test('rerun of a run that succeeded is refused, naming it', () => {
    const clicks = (cli('runs', '--lake', lake, '--dataset', 'clicks').json as unknown as Array<{ name: string }>)[0];
    const result = spawnSync(TSX, [join(ROOT, 'adapters/local/cli.ts'), 'rerun', clicks!.name, '--lake', lake], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`sluice: ${clicks!.name} succeeded; there is nothing to re-run\n`);
  }, 60_000);

  test('logs <execution>: the run’s step lines in order, each carrying its execution ARN', () => {
    const lines = cli('logs', failedRun, '--lake', lake).json as unknown as Array<{
      timestamp: string;
      message: Record<string, unknown>;
    }>;
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.map((l) => l.timestamp)).toEqual([...lines.map((l) => l.timestamp)].sort());
    for (const l of lines) expect(String(l.message.executionArn)).toMatch(new RegExp(`:${failedRun}$`));
    expect(
      lines.some((l) => l.message.partition === 'year=2024/month=02/day=02' && l.message.jobState === 'FAILED'),
    ).toBe(true);
  }, 60_000);

  test('backfill over a range: one run, the range expanded client-side and said so', () => {
    const backfill = cli(
      'backfill',
      '--lake',
      lake,
      '--dataset',
      'orders',
      '--from',
      'year=2024/month=02/day=01',
      '--to',
      'year=2024/month=02/day=01',
      '--skip-crawler',
    );
    expect(backfill.code).toBe(0);
    expect(backfill.json).toMatchObject({ status: 'SUCCEEDED', partitions: { processed: 1, failed: 0 } });
    const bad = spawnSync(
      TSX,
      [
        join(ROOT, 'adapters/local/cli.ts'),
        'backfill',
        '--lake',
        lake,
        '--dataset',
        'orders',
        '--from',
        'year=2024/month=02/day=30',
        '--to',
        'year=2024/month=03/day=01',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^sluice: --from\/--to: .*2024-02-30|^sluice: --from\/--to: .*day/);
  }, 60_000);
});
