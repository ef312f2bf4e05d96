/**
 * The conformance table (tests/conformance/values.json and tests/conformance/files/<case>/) run through the real
 * local engine: every value through the contract's DuckDB SQL, every file case through LocalJobs (the local Glue
 * job), start to finish. The local engine must match the table exactly.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { columnSql, duckdb, parseTargetType } from '../../domain/rows';
import { parseConfig, type ResolvedDataset } from '../../domain/config/config';
import { jobArguments } from '../../domain/steps/jobs';
import { LocalEngine, quoteString } from '../../adapters/local/duckdb';
import { LocalJobs } from '../../adapters/local/glue';
import { LocalLake } from '../../adapters/local/lake';
import type { ColumnMapping } from '../../schemas/types.generated';
import { DEFAULT_MAPPING, expectedOf, FILES, fileCases, formatOf, valueCases, type FileCase } from './table';

function configFor(
  caseName: string,
  format: 'csv' | 'json' | 'parquet',
  mapping: ColumnMapping[],
  raw: FileCase['raw'] = {},
  maxBadRowsFraction = 1,
) {
  return parseConfig(
    {
      stage: 'conf',
      lake: { rawBucket: 'raw-bucket', curatedBucket: 'curated-bucket' },
      datasets: [
        {
          name: 'conformance',
          raw: { prefix: 'conformance/', format, ...raw },
          partitioning: { style: 'hive', keys: [{ name: 'case', type: 'string', pattern: '^[a-z0-9-]+$' }] },
          job: { maxBadRowsFraction },
          target: { database: 'curated', table: 'conformance', locationTemplate: 'conformance/case={case}/' },
          mapping,
        },
      ],
    },
    `conformance case ${caseName}`,
  );
}

let engine: LocalEngine;
let root: string;

beforeAll(async () => {
  engine = await LocalEngine.open(2);
  root = mkdtempSync(join(tmpdir(), 'sluice-conformance-'));
});

afterAll(() => {
  engine.close();
  rmSync(root, { recursive: true, force: true });
});

describe('values: the contract on DuckDB', () => {
  test.each(valueCases.map((c) => [c.type, JSON.stringify(c.input), c] as const))('%s %s', async (_t, _i, c) => {
    const sql = columnSql(duckdb, parseTargetType(c.type), 'v0');
    const input = c.input === null ? 'NULL' : quoteString(c.input);
    // Inline (as the Glue job gets it) and layered (trim once, cast once, validity from the value, as the local
    // job runs it): both must give the table's answer.
    const [row] = await engine.rows(
      `SELECT ${sql.valid} AS valid, CAST(${sql.value} AS VARCHAR) AS value,
              ${sql.validOf('t0', 'x0')} AS layered_valid, CAST(x0 AS VARCHAR) AS layered_value
       FROM (SELECT *, ${sql.valueOf('t0')} AS x0 FROM (SELECT v0, ${sql.trimmed} AS t0 FROM (SELECT ${input}::VARCHAR AS v0)))`,
    );
    const expected = { valid: c.valid, value: c.value };
    expect({ valid: row?.valid, value: c.valid ? (row?.value ?? null) : null }).toEqual(expected);
    expect({ valid: row?.layered_valid, value: c.valid ? (row?.layered_value ?? null) : null }).toEqual(expected);
    // The value is NULL exactly when the input is missing or invalid.
    if (!c.valid) expect(row?.value ?? null).toBeNull();
  });
});

async function runCase(caseName: string) {
  const expected = expectedOf(caseName);
  const format = formatOf(caseName);
  const config = configFor(
    caseName,
    format,
    expected.mapping ?? DEFAULT_MAPPING,
    expected.raw,
    expected.maxBadRowsFraction,
  );
  const dataset = config.datasets[0] as ResolvedDataset;
  const lake = new LocalLake(join(root, caseName), 'raw-bucket', 'curated-bucket');
  cpSync(join(FILES, caseName), join(lake.bucketDir('raw-bucket'), 'conformance', `case=${caseName}`), {
    recursive: true,
    filter: (src) => !src.endsWith('expected.json') && !src.endsWith('.sql'),
  });
  const jobs = new LocalJobs(config, lake, engine, { now: () => new Date('2024-01-01T00:00:00Z') });
  const args = {
    ...jobArguments(dataset, { case: caseName }, `sk1-${caseName}`),
    ...(expected.missingColumns ? { '--sluice_missing_columns': expected.missingColumns } : {}),
  };
  const runId = await jobs.startJobRun(dataset.job.name, args);
  while (jobs.pending.size > 0) await Promise.all([...jobs.pending]);
  const run = await jobs.getJobRun(dataset.job.name, runId);
  return { expected, dataset, lake, run, stats: jobs.statsFor(runId) };
}

describe('files: the local job', () => {
  test.each(fileCases)('%s', async (caseName) => {
    const { expected, dataset, lake, run, stats } = await runCase(caseName);
    expect({ state: run.state, error: expected.errorMatches ? undefined : run.errorMessage }).toEqual({
      state: expected.state,
      error: expected.error,
    });
    if (expected.errorMatches) expect(run.errorMessage).toMatch(new RegExp(expected.errorMatches));
    if (expected.state === 'FAILED') return;
    const target = lake.pathOf(`s3://curated-bucket/conformance/case=${caseName}/`);
    const columns = dataset.mapping.map((m) => `CAST("${m.target}" AS VARCHAR) AS "${m.target}"`).join(', ');
    const rows = await engine.rows(`SELECT ${columns} FROM read_parquet(${quoteString(join(target, '*.parquet'))})`);
    const asLists = rows.map((r) => dataset.mapping.map((m) => (r[m.target] ?? null) as string | null));
    const order = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
    expect(asLists.sort(order)).toEqual([...(expected.rows ?? [])].sort(order));
    expect(stats).toMatchObject({ rowsOut: asLists.length, badRows: expected.badRows });
    const rejects = stats?.rejectsFile
      ? await engine.rows(
          `SELECT sluice_reject_reason AS reason, sluice_source_file AS file FROM read_csv(${quoteString(stats.rejectsFile)}, header = true, all_varchar = true)`,
        )
      : [];
    expect(rejects.sort(order)).toEqual([...(expected.rejects ?? [])].sort(order));
  });
});
