/**
 * The local DuckDB engine (issue 14): job runs convert on their own DuckDB instance, one thread per statement
 * (split across the job connections on a larger machine), side by side on several connections; the crawler and
 * queries keep DuckDB's default threads. A COPY's written-row count is read from its materialized result.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { defaultJobConnections, jobThreads, LocalEngine, quoteString } from '../../adapters/local/duckdb';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'sluice-engine-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const threadsOf = async (run: (sql: string) => Promise<Record<string, unknown>[]>) =>
  String((await run(`SELECT current_setting('threads') AS threads`))[0]?.threads);

test('job runs get their own instance; the crawler and queries keep DuckDB defaults', async () => {
  const probe = await DuckDBInstance.create(':memory:');
  const connection = await probe.connect();
  const defaults = (await connection.runAndReadAll(`SELECT current_setting('threads') AS threads`)).getRowObjectsJson();
  connection.closeSync();
  const engine = await LocalEngine.open(3);
  try {
    expect(await threadsOf((sql) => engine.rows(sql))).toBe(String(defaults[0]?.threads));
    // Separate instances: what a job session creates is not seen by queries.
    await engine.jobSession((s) => s.run('CREATE TABLE job_only AS SELECT 1 AS x'));
    await expect(engine.rows('SELECT * FROM job_only')).rejects.toThrow(/job_only/);
  } finally {
    engine.close();
  }
});

test('job threads follow the runs in progress: every core for a run alone, shared when runs overlap', async () => {
  const cores = availableParallelism();
  const engine = await LocalEngine.open(3);
  const threadsInJob = () => engine.jobSession((s) => threadsOf((sql) => s.rows(sql)));
  try {
    expect(await threadsInJob()).toBe(String(jobThreads(cores, 1)));
    // A second run starts while the first is in progress, then a third while both are.
    const seen = await engine.jobSession(async () => {
      const second = await engine.jobSession(async (s) => {
        const third = await threadsInJob();
        return [await threadsOf((sql) => s.rows(sql)), third];
      });
      return second;
    });
    expect(seen).toEqual([String(jobThreads(cores, 2)), String(jobThreads(cores, 3))]);
    expect(await threadsInJob()).toBe(String(jobThreads(cores, 1)));
  } finally {
    engine.close();
  }
});

test('job connections: one more than the cores, at least 2 and at most 3; the runs in progress share the cores', () => {
  expect([1, 2, 3, 4, 16].map((cores) => defaultJobConnections(cores))).toEqual([2, 3, 3, 3, 3]);
  expect(
    [
      [1, 2],
      [2, 3],
      [4, 3],
      [8, 3],
      [16, 3],
      [16, 1],
    ].map(([cores, connections]) => jobThreads(cores!, connections!)),
  ).toEqual([1, 1, 1, 2, 5, 16]);
});

test('the engine refuses a connection count that is not a positive integer', async () => {
  for (const bad of [0, -1, 1.5]) await expect(LocalEngine.open(bad)).rejects.toThrow(/positive integer/);
});

test('copy resolves with the rows a COPY wrote, zero included; anything else is refused', async () => {
  const engine = await LocalEngine.open(1);
  try {
    const to = (name: string) => quoteString(join(dir, name));
    await engine.jobSession(async (s) => {
      expect(await s.copy(`COPY (SELECT * FROM range(5)) TO ${to('five.parquet')} (FORMAT parquet)`)).toBe(5);
      expect(await s.copy(`COPY (SELECT * FROM range(5) WHERE false) TO ${to('none.parquet')} (FORMAT parquet)`)).toBe(
        0,
      );
      expect(await s.copy(`COPY (SELECT * FROM range(3000)) TO ${to('many.csv')} (HEADER)`)).toBe(3000);
      await expect(s.copy('SELECT 42 AS answer')).rejects.toThrow(/not a COPY with a row count \(columns: answer\)/);
      await expect(s.copy('SELECT 42::BIGINT AS "Count"')).rejects.toThrow(/not a COPY/);
      // RETURN_STATS makes a COPY return a row per file, not a count: refused rather than misread.
      await expect(s.copy(`COPY (SELECT 1) TO ${to('stats.parquet')} (FORMAT parquet, RETURN_STATS)`)).rejects.toThrow(
        /not a COPY with a row count/,
      );
    });
  } finally {
    engine.close();
  }
});

test('job statements run as written: a filter on computed values stays above them, so each value is computed once', async () => {
  // The shape of the good-row COPY: values computed by a projection (here one regular expression), kept by a filter
  // on them. DuckDB's optimizer would copy the expression into the filter (computing it twice per row).
  const sql = `EXPLAIN SELECT x FROM (SELECT CASE WHEN regexp_full_match(s, '[0-9]+') THEN 1 END AS x FROM (SELECT CAST(range AS VARCHAR) AS s FROM range(3))) WHERE x IS NOT NULL`;
  const filterOf = (rows: Record<string, unknown>[]) => {
    const plan = String(rows[0]?.explain_value);
    return plan.slice(plan.indexOf('FILTER'), plan.indexOf('└', plan.indexOf('FILTER')));
  };
  const engine = await LocalEngine.open(2);
  try {
    const inJobs = await Promise.all([0, 1].map(() => engine.jobSession((s) => s.rows(sql))));
    for (const rows of inJobs) {
      expect(filterOf(rows)).toContain('FILTER');
      expect(filterOf(rows)).not.toContain('regexp');
    }
    // Queries keep the optimizer: there the expression moves into the filter.
    expect(filterOf(await engine.rows(sql))).toContain('regexp');
  } finally {
    engine.close();
  }
});
