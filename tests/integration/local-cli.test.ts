/**
 * End to end through the CLI (`npm start` is `sluice demo`): the real ASL, the real steps, DuckDB and files.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BROKEN_ROWS, CLICK_DAYS, CLICKS_PER_DAY, ORDER_DAYS, ORDERS_PER_FILE } from '../../adapters/local/demo-data';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function cli(...args: string[]): { code: number; json: Record<string, unknown>; stdout: string } {
  const result = spawnSync(
    TSX,
    [join(ROOT, 'cli/sluice.ts'), ...args, '--json', '--quiet-ms', '200', '--poll-ms', '20'],
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
    const result = spawnSync(TSX, [join(ROOT, 'cli/sluice.ts'), 'rerun', clicks!.name, '--lake', lake], {
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
        join(ROOT, 'cli/sluice.ts'),
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

/** The CLI as a user runs it: text output, no --json added. */
function cliText(...args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(TSX, [join(ROOT, 'cli/sluice.ts'), ...args, '--quiet-ms', '200', '--poll-ms', '20'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.status === null) throw new Error(`cli did not finish: ${result.stderr}`);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** config/local.json plus a dataset whose name has an underscore and whose partition keys are not alphabetical. */
function configWithWeather(dir: string): string {
  const config = JSON.parse(readFileSync(join(ROOT, 'config', 'local.json'), 'utf8')) as {
    datasets: Array<Record<string, unknown> & { debounce: { quietSeconds: number } }>;
  };
  const weather = JSON.parse(JSON.stringify(config.datasets[0])) as Record<string, unknown>;
  Object.assign(weather, {
    name: 'weather_na',
    raw: { prefix: 'weather_na/', format: 'csv' },
    partitioning: {
      style: 'hive',
      keys: [
        { name: 'year', type: 'int', pattern: '^20[0-9]{2}$' },
        { name: 'month', type: 'int', pattern: '^(0[1-9]|1[0-2])$' },
      ],
    },
    target: {
      database: 'sluice_curated',
      table: 'weather_na',
      locationTemplate: 'weather_na/year={year}/month={month}/',
    },
    mapping: [
      { source: 'station', target: 'station', type: 'string' },
      { source: 'temp', target: 'temp', type: 'double' },
      { source: 'obs', target: 'obs', type: 'bigint' },
    ],
  });
  config.datasets.push(weather as (typeof config.datasets)[number]);
  for (const d of config.datasets) d.debounce.quietSeconds = 0;
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

describe('issue 25: real data as users bring it, and what the CLI says about it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-25-'));
  const lake = join(dir, 'lake');
  const config = configWithWeather(dir);
  const land = (key: string, body: string | Buffer) => {
    mkdirSync(dirname(join(lake, 'raw', key)), { recursive: true });
    writeFileSync(join(lake, 'raw', key), body);
  };
  const weatherRows = (n: number, temp: (i: number) => string, obs: (i: number) => string) =>
    `station,temp,obs\n${Array.from({ length: n }, (_, i) => `s${i},${temp(i)},${obs(i)}`).join('\n')}\n`;
  const header = 'order_id,customer,amount,ordered_at\n';
  let run: ReturnType<typeof cliText>;
  let runs: Array<Record<string, unknown>>;
  const failedRunOf = (dataset: string) =>
    runs.find((r) => r.dataset === dataset && r.status === 'FAILED')?.name as string;

  beforeAll(() => {
    land('orders/year=2024/month=01/day=01/part.csv', header + '1,c1,1.50,2024-01-01 10:00:00\n');
    land('orders/year=2024/month=01/day=02/my file (1).csv', header + '2,c2,2.50,2024-01-02 10:00:00\n');
    land(
      'orders/year=2024/month=01/day=03/garbage.csv',
      Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) % 256)),
    );
    land('orders/misc/stray file.csv', 'x');
    land('events/clicks/2024-02-01/a.json', '{"user":"u1","page":"/p/1","ms":120}\n');
    land(
      'events/clicks/2024-02-02/array.json',
      '[\n  {"user":"u2","page":"/p/2","ms":5},\n  {"user":"u3","page":"/p/3","ms":6}\n]\n',
    );
    // 1 bad row in 201 (within the 1 % limit: a rejects file), big integers, and a partition of bad rows only.
    land(
      'weather_na/year=2024/month=01/w.csv',
      weatherRows(
        201,
        (i) => (i === 0 ? 'NA' : '1.5'),
        (i) => String(i),
      ),
    );
    land(
      'weather_na/year=2024/month=02/w.csv',
      weatherRows(
        100,
        () => '2.5',
        () => '9007199254740993',
      ),
    );
    land(
      'weather_na/year=2024/month=03/w.csv',
      weatherRows(
        10,
        () => 'NA',
        (i) => String(i),
      ),
    );
    run = cliText('run', '--lake', lake, '--config', config);
    runs = cli('runs', '--lake', lake, '--config', config).json as unknown as Array<Record<string, unknown>>;
  }, 120_000);

  test('a JSON array file and a garbage file fail only their own partitions; the crawler names them', () => {
    expect(run.code).toBe(1);
    const byDataset = Object.fromEntries(runs.map((r) => [r.dataset, r]));
    expect(byDataset.orders).toMatchObject({ status: 'FAILED', partitions: { processed: 2, failed: 1 } });
    expect(byDataset.clicks).toMatchObject({ status: 'FAILED', partitions: { processed: 1, failed: 1 } });
    expect(byDataset.orders?.failure).toMatchObject({ step: 'processPartitions' });
    expect(byDataset.clicks?.failure).toMatchObject({ step: 'processPartitions' });
    expect(run.stdout).toMatch(
      /crawler: +could not read events\/clicks\/2024-02-02\/array\.json \(clicks dt=2024-02-02\): not JSON lines/,
    );
    expect(run.stdout).toMatch(
      /crawler: +could not read orders\/year=2024\/month=01\/day=03\/garbage\.csv \(orders year=2024\/month=01\/day=03\): not readable as CSV/,
    );
  });

  test('rows reconcile: in = out + bad for every run, and run says what runs says', () => {
    const total = { in: 0, out: 0, bad: 0 };
    for (const r of runs) {
      const rows = r.rows as { in: number; out: number; bad: number };
      expect(rows.in).toBe(rows.out + rows.bad);
      total.in += rows.in;
      total.out += rows.out;
      total.bad += rows.bad;
    }
    expect(total).toEqual({ in: 2 + 1 + 201 + 100, out: 2 + 1 + 200 + 100, bad: 1 });
    expect(run.stdout).toContain(`rows:        ${total.in} in = ${total.out} out + ${total.bad} bad`);
  });

  test('the failure output names each failed partition with its reason, and the rerun command', () => {
    expect(run.stdout).toMatch(/year=2024\/month=03 {2}FAILED: 10 of 10 rows could not be cast/);
    for (const dataset of ['orders', 'clicks', 'weather_na'])
      expect(run.stdout).toContain(`re-run only what failed: sluice rerun ${failedRunOf(dataset)}`);
  });

  test('progress lines name datasets in full; keys and paths are shown as written', () => {
    expect(run.stdout).toMatch(/s {2}weather_na ▶ Validate the run request/);
    expect(run.stdout).toContain('rejected orders/misc/stray file.csv: key does not follow the layout');
    // s3:// stays only inside the re-run input JSON, which is meant to be pasted back.
    for (const line of run.stdout.split('\n').filter((l) => l.includes('s3://')))
      expect(line).toMatch(/^\{"dataset":"[a-z_]+","manifest":"s3:\/\/[^"]+","skipCrawler":(true|false)\}$/);
    expect(run.stdout).toContain(`${lake}/local-artifacts/runs/`);
  });

  test('one rejects line, with the folder', () => {
    const lines = run.stdout.split('\n').filter((l) => /^\s+rejects:/.test(l));
    expect(lines).toEqual([`  rejects:     2 files of rejected rows in ${join(lake, 'curated', '_rejected')}/`]);
  });

  test('query: partition columns in config order; --json numbers exact or strings', () => {
    const rows = cli('query', 'SELECT * FROM weather_na WHERE month = 2 LIMIT 1', '--lake', lake, '--config', config)
      .json as unknown as Array<Record<string, unknown>>;
    expect(Object.keys(rows[0] ?? {})).toEqual(['station', 'temp', 'obs', 'year', 'month']);
    expect(rows[0]).toMatchObject({ obs: '9007199254740993', year: 2024, month: 2 });
    const [sums] = cli(
      'query',
      'SELECT count(*) AS n, sum(obs) AS s FROM weather_na',
      '--lake',
      lake,
      '--config',
      config,
    ).json as unknown as Array<Record<string, unknown>>;
    expect(sums).toEqual({ n: 300, s: String(20100n + 100n * 9007199254740993n) });
  }, 60_000);

  test('rerun lists per-partition reasons; the rejects of superseded runs are removed', () => {
    const rejects = () =>
      readdirSync(join(lake, 'curated', '_rejected', 'weather_na')).filter((f) => f.endsWith('.csv'));
    expect(rejects()).toHaveLength(2);
    const before = new Set(rejects());
    const rerun = cliText('rerun', failedRunOf('weather_na'), '--lake', lake, '--config', config);
    expect(rerun.code).toBe(1);
    expect(rerun.stdout).toMatch(
      /failed partitions:\n {2}year=2024\/month=03 {2}FAILED: 10 of 10 rows could not be cast/,
    );
    // The re-read partition has a new rejects file; its older one is gone, month 01's stays.
    expect(rejects()).toHaveLength(2);
    expect(rejects().filter((f) => before.has(f))).toHaveLength(1);
    // Fixed at the source: the next run of month 03 rejects nothing, and its last rejects file goes.
    land(
      'weather_na/year=2024/month=03/w.csv',
      weatherRows(
        10,
        () => '3.5',
        (i) => String(i),
      ),
    );
    const last = (
      cli('runs', '--lake', lake, '--config', config, '--dataset', 'weather_na').json as unknown as Array<{
        name: string;
      }>
    )[0]!.name;
    expect(cliText('rerun', last, '--lake', lake, '--config', config).code).toBe(0);
    expect(rejects()).toEqual([...before].filter((f) => rejects().includes(f)));
    expect(rejects()).toHaveLength(1);
  }, 120_000);

  test('an unknown --lake and an unknown --dataset are usage errors (exit 2)', () => {
    const typo = cliText('query', 'SELECT count(*) FROM orders', '--lake', `${lake}x`, '--config', config);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe(
      `sluice: no lake at ${lake}x (check --lake); sluice demo or sluice watch creates one, or land files under ${lake}x/<raw bucket>/ and run sluice run\n`,
    );
    expect(existsSync(`${lake}x`)).toBe(false);
    const nosuch = cliText('runs', '--dataset', 'nosuch', '--lake', lake, '--config', config);
    expect(nosuch.code).toBe(2);
    expect(nosuch.stderr).toMatch(
      /^sluice: no dataset "nosuch" in .*config\.json \(datasets: orders, clicks, weather_na\)\n$/,
    );
  }, 60_000);

  test('help texts say what the commands do', () => {
    const backfill = cliText('backfill', '--help').stdout;
    expect(backfill).toContain('sent as one range input');
    expect(backfill).not.toMatch(/until the range input|5000/);
    expect(cliText('run', '--help').stdout).toMatch(/--quiet-ms N {2}how long a run waits, after the last file landed/);
    expect(cliText('--help').stdout).toMatch(/--quiet-ms N {4}local runs: how long a run waits/);
  }, 60_000);
});

test('a run in flight shows in runs and status; one whose process died does not', async () => {
  const lake = join(mkdtempSync(join(tmpdir(), 'sluice-live-')), 'lake');
  mkdirSync(join(lake, 'raw', 'orders/year=2024/month=02/day=01'), { recursive: true });
  writeFileSync(
    join(lake, 'raw', 'orders/year=2024/month=02/day=01/a.csv'),
    'order_id,customer,amount,ordered_at\n1,c,1.50,2024-02-01 10:00:00\n',
  );
  // One process (node --import tsx), so that killing it ends the run; a debounce long enough to look at it.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'cli/sluice.ts'), 'run', '--lake', lake, '--quiet-ms', '120000'],
    { cwd: ROOT, stdio: 'ignore' },
  );
  try {
    let running: Record<string, unknown> | undefined;
    for (const deadline = Date.now() + 90_000; !running && Date.now() < deadline;) {
      const runs = cli('runs', '--lake', lake).json as unknown as Array<Record<string, unknown>>;
      // A run shows as RUNNING from its start ("starting"); wait for the state it stays in (the long debounce), so
      // the checks below do not depend on how quickly this machine reaches it.
      running = runs.find((r) => r.status === 'RUNNING' && r.step === 'Wait for arrivals to settle');
      if (!running) await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(running).toMatchObject({ dataset: 'orders', step: 'Wait for arrivals to settle' });
    const status = cli('status', '--lake', lake).json as {
      datasets: Array<{ dataset: string; lastRun: unknown; lease: unknown }>;
    };
    const orders = status.datasets.find((d) => d.dataset === 'orders');
    expect(orders?.lastRun).toMatchObject({ status: 'RUNNING', name: running?.name });
    expect(orders?.lease).toEqual({ holder: running?.executionArn, since: running?.startedAt });
    expect(cliText('status', '--lake', lake).stdout).toMatch(
      /orders .* RUNNING for \d+s, at Wait for arrivals to settle/,
    );
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  expect(cli('runs', '--lake', lake).json).toEqual([]);
}, 180_000);
