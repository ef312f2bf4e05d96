/**
 * One partition job, run on both engines from the same files and the same arguments:
 * - the local engine: LocalJobs (adapters/local/glue.ts) over a LocalLake folder, as `npm start` runs it;
 * - Spark: the Glue script from the `sls package` output, on local Spark 3.5.4 against moto's S3 server
 *   (tests/spark/harness.py), with the arguments Glue would give it: the packaged job's DefaultArguments, the start
 *   step's run arguments (jobArguments, the code the packaged start step runs) and Glue's own --JOB_ID, --JOB_RUN_ID
 *   and --JOB_NAME.
 * What each run left behind is read back the same way for both: Parquet and rejects through DuckDB, summaries as JSON.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseConfig, type ResolvedConfig, type ResolvedDataset } from '../../domain/config/config';
import { failureMessage, s3Uri } from '../../domain/common';
import { jobSummaryLocation } from '../../domain/rows';
import { jobArguments, jobBatch, jobBatchArguments, jobBatchLocation } from '../../domain/steps/jobs';
import { LocalEngine, quoteString } from '../../adapters/local/duckdb';
import { LocalJobs } from '../../adapters/local/glue';
import { LocalLake } from '../../adapters/local/lake';
import { glueScriptArtifact } from '../../deploy/glue-script';
import type { ColumnMapping, JobBatch, JobBatchResult } from '../../schemas/types.generated';
import type { Template } from '../support/package-stack';
import { VENV_DIR, venvBin } from '../support/python-env';

export const RAW = 'raw-bucket';
export const CURATED = 'curated-bucket';
export const ARTIFACTS = 'artifacts-bucket';

export interface JobCase {
  /** Also the partition value (case=<name>): lower case, digits and hyphens. */
  name: string;
  format: 'csv' | 'json' | 'parquet';
  mapping: ColumnMapping[];
  files: Array<{ name: string; path: string }>;
  missingColumns?: 'bad-rows' | 'fail';
  /** raw.* settings beyond format (nullValues, timeZone). */
  raw?: Record<string, unknown>;
  maxBadRowsFraction?: number;
}

/** What a run left, read back the same way for either engine. */
export interface Outcome {
  state: string;
  error: string | null;
  /** Parquet files of the partition's output (local paths). */
  parquet: string[];
  /** Every key under the target prefix, relative to it (Spark: committer leftovers show here). */
  targetKeys: string[];
  /** CSV files holding the rejected rows. */
  rejects: string[];
  summary: Record<string, unknown> | null;
}

/**
 * A batch (issue 23): partitions of one dataset converted by one job run (--sluice_batch). Each partition is a
 * folder of files, its partition value `case=<name>`.
 */
export interface BatchCase {
  name: string;
  format: 'csv' | 'json' | 'parquet';
  mapping: ColumnMapping[];
  maxBadRowsFraction?: number;
  partitions: Array<{ name: string; files: Array<{ name: string; path: string }> }>;
}

/** What a batch run left: the run's state, its JobBatchResult, and each partition's outcome by name. */
export interface BatchOutcome {
  state: string;
  error: string | null;
  result: JobBatchResult | null;
  partitions: Map<string, Outcome>;
}

/** The execution the batch belongs to: its batch file is under runs/sluice-conf/batch-test/batches/. */
export const BATCH_EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:sluice-conf:batch-test';

const asJobCase = (b: BatchCase): JobCase => ({
  name: b.name,
  format: b.format,
  mapping: b.mapping,
  files: [],
  ...(b.maxBadRowsFraction !== undefined ? { maxBadRowsFraction: b.maxBadRowsFraction } : {}),
});

/** The batch file, where it goes, and the run's arguments, as the start step would make them. */
export function batchRunOf(b: BatchCase): { batch: JobBatch; uri: string; args: Record<string, string> } {
  const dataset = datasetFor(asJobCase(b));
  const location = jobBatchLocation(ARTIFACTS, BATCH_EXECUTION, 0);
  const batch = jobBatch(
    dataset,
    b.partitions.map((p) => ({ partition: { case: p.name } })),
    BATCH_EXECUTION,
    location,
    { bucket: ARTIFACTS },
  );
  return { batch, uri: s3Uri(location), args: jobBatchArguments(dataset, batch, location) };
}

/** A partition's outcome inside a batch: its state and message from the batch result, its files as a run's. */
function partitionOutcome(
  result: JobBatchResult | null,
  runKey: string,
  files: Omit<Outcome, 'state' | 'error'>,
): Outcome {
  const entry = result?.partitions.find((p) => p.runKey === runKey);
  return {
    state: entry === undefined ? 'MISSING' : entry.ok ? 'SUCCEEDED' : 'FAILED',
    error: entry?.message ?? null,
    ...files,
  };
}

export function configFor(c: JobCase): ResolvedConfig {
  return parseConfig(
    {
      stage: 'conf',
      lake: { rawBucket: RAW, curatedBucket: CURATED },
      datasets: [
        {
          name: 'conformance',
          raw: { prefix: 'conformance/', format: c.format, ...(c.raw ?? {}) },
          partitioning: { style: 'hive', keys: [{ name: 'case', type: 'string', pattern: '^[a-z0-9-]+$' }] },
          job: {
            maxBadRowsFraction: c.maxBadRowsFraction ?? 1,
            ...(c.missingColumns ? { missingColumns: c.missingColumns } : {}),
          },
          target: { database: 'curated', table: 'conformance', locationTemplate: 'conformance/case={case}/' },
          mapping: c.mapping,
        },
      ],
    },
    `job case ${c.name}`,
  );
}

export const datasetFor = (c: JobCase): ResolvedDataset => configFor(c).datasets[0] as ResolvedDataset;

const runKeyOf = (c: JobCase) => `sk1-${c.name}`;

function runArguments(c: JobCase): Record<string, string> {
  const dataset = datasetFor(c);
  return jobArguments(dataset, { case: c.name }, runKeyOf(c), jobSummaryLocation(ARTIFACTS, dataset.name, runKeyOf(c)));
}

// ---------------------------------------------------------------------------------------------------------------
// The local engine

export async function runLocal(engine: LocalEngine, root: string, c: JobCase): Promise<Outcome> {
  const config = configFor(c);
  const lake = new LocalLake(join(root, c.name), RAW, CURATED);
  const folder = join(lake.bucketDir(RAW), 'conformance', `case=${c.name}`);
  mkdirSync(folder, { recursive: true });
  for (const f of c.files) cpSync(f.path, join(folder, f.name));
  const jobs = new LocalJobs(config, lake, engine, { now: () => new Date('2024-01-01T00:00:00Z') });
  const args = runArguments(c);
  const runId = await jobs.startJobRun(config.datasets[0]!.job.name, args);
  while (jobs.pending.size > 0) await Promise.all([...jobs.pending]);
  const run = await jobs.getJobRun(config.datasets[0]!.job.name, runId);
  const stats = jobs.statsFor(runId);
  const target = lake.pathOf(args['--sluice_target_path']!);
  const targetKeys = existsSync(target) ? readdirSync(target, { recursive: true }).map(String).sort() : [];
  const summaryPath = lake.pathOf(args['--sluice_summary_path']!);
  return {
    state: run.state,
    error: run.errorMessage ?? null,
    parquet: targetKeys.filter((k) => k.endsWith('.parquet')).map((k) => join(target, k)),
    targetKeys,
    rejects: stats?.rejectsFile ? [stats.rejectsFile] : [],
    summary: existsSync(summaryPath)
      ? (JSON.parse(readFileSync(summaryPath, 'utf8')) as Record<string, unknown>)
      : null,
  };
}

/** A batch on the local engine: each partition's files under its folder, the batch file, one LocalJobs run. */
export async function runLocalBatch(engine: LocalEngine, root: string, b: BatchCase): Promise<BatchOutcome> {
  const config = configFor(asJobCase(b));
  const lake = new LocalLake(join(root, b.name), RAW, CURATED);
  for (const p of b.partitions) {
    const folder = join(lake.bucketDir(RAW), 'conformance', `case=${p.name}`);
    mkdirSync(folder, { recursive: true });
    for (const f of p.files) cpSync(f.path, join(folder, f.name));
  }
  const { batch, uri, args } = batchRunOf(b);
  mkdirSync(dirname(lake.pathOf(uri)), { recursive: true });
  writeFileSync(lake.pathOf(uri), JSON.stringify(batch));
  const jobs = new LocalJobs(config, lake, engine, { now: () => new Date('2024-01-01T00:00:00Z') });
  const jobName = config.datasets[0]!.job.name;
  const runId = await jobs.startJobRun(jobName, args);
  while (jobs.pending.size > 0) await Promise.all([...jobs.pending]);
  const run = await jobs.getJobRun(jobName, runId);
  const resultPath = lake.pathOf(batch.resultPath);
  const result = existsSync(resultPath) ? (JSON.parse(readFileSync(resultPath, 'utf8')) as JobBatchResult) : null;
  const partitions = new Map<string, Outcome>();
  batch.partitions.forEach((p, i) => {
    const target = lake.pathOf(p.targetPath);
    const targetKeys = existsSync(target) ? readdirSync(target, { recursive: true }).map(String).sort() : [];
    const summaryPath = lake.pathOf(p.summaryPath!);
    const rejectsFile = jobs.batchStatsFor(runId, p.runKey)?.rejectsFile;
    partitions.set(
      b.partitions[i]!.name,
      partitionOutcome(result, p.runKey, {
        parquet: targetKeys.filter((k) => k.endsWith('.parquet')).map((k) => join(target, k)),
        targetKeys,
        rejects: rejectsFile ? [rejectsFile] : [],
        summary: existsSync(summaryPath)
          ? (JSON.parse(readFileSync(summaryPath, 'utf8')) as Record<string, unknown>)
          : null,
      }),
    );
  });
  return { state: run.state, error: run.errorMessage ?? null, result, partitions };
}

// ---------------------------------------------------------------------------------------------------------------
// Spark, through the packaged script

/** The packaged Glue job: the script file in the package and the job's DefaultArguments, from the template. */
export function packagedGlueJob(dir: string, template: Template): { script: string; defaults: Record<string, string> } {
  const jobs = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Glue::Job');
  if (jobs.length === 0) throw new Error('the packaged template has no AWS::Glue::Job');
  const job = jobs[0]!;
  const location = JSON.stringify(job.Properties.Command.ScriptLocation);
  const artifact = glueScriptArtifact('dev');
  const script = join(dir, artifact.packagedPath);
  // The file the template's ScriptLocation names is the one `sls deploy` uploads (glue-script-plugin.js).
  if (!location.includes(basename(artifact.key)) || !existsSync(script))
    throw new Error(`the packaged Glue script ${script} is not the one the template names (${location})`);
  return { script, defaults: { ...(job.Properties.DefaultArguments as Record<string, string>) } };
}

export interface SparkRun {
  name: string;
  state: string;
  error: string | null;
  committed: boolean;
  seconds: number;
  target: Array<{ key: string; size: number }>;
  rejects: Array<{ key: string; size: number }>;
  summary: Record<string, unknown> | null;
}

/** Runs the cases on Spark in one harness process (one Spark start); outcomes by case name. */
export function runSpark(
  packaged: { script: string; defaults: Record<string, string> },
  cases: JobCase[],
  work: string,
  batches: BatchCase[] = [],
): {
  outcomes: Map<string, Outcome>;
  runs: SparkRun[];
  startupSeconds: number;
  batchOutcomes: Map<string, BatchOutcome>;
  batchRuns: SparkBatchRun[];
} {
  const jars = readdirSync(join(VENV_DIR, 'spark-jars'))
    .filter((f) => f.endsWith('.jar'))
    .map((f) => join(VENV_DIR, 'spark-jars', f));
  const out = join(work, 'spark-out');
  const runs = cases.map((c, i) => {
    const args = { ...packaged.defaults, ...runArguments(c) };
    const argv = [
      packaged.script,
      '--JOB_ID',
      `j_conformance`,
      '--JOB_RUN_ID',
      `jr_spark_${String(i + 1).padStart(5, '0')}`,
      ...Object.entries(args).flat(),
      '--JOB_NAME',
      datasetFor(c).job.name,
    ];
    const key = runKeyOf(c);
    return {
      name: c.name,
      files: c.files.map((f) => ({ uri: `s3://${RAW}/conformance/case=${c.name}/${f.name}`, path: f.path })),
      argv,
      target: args['--sluice_target_path'],
      rejects: `s3://${CURATED}/_rejected/conformance/${key}/`,
      summary: args['--sluice_summary_path'],
    };
  });
  const batchRuns = batches.map((b, i) => {
    const { batch, uri, args } = batchRunOf(b);
    const all = { ...packaged.defaults, ...args };
    const argv = [
      packaged.script,
      '--JOB_ID',
      'j_conformance',
      '--JOB_RUN_ID',
      `jr_spark_batch_${String(i + 1).padStart(5, '0')}`,
      ...Object.entries(all).flat(),
      '--JOB_NAME',
      datasetFor(asJobCase(b)).job.name,
    ];
    return {
      name: b.name,
      files: b.partitions.flatMap((p) =>
        p.files.map((f) => ({ uri: `s3://${RAW}/conformance/case=${p.name}/${f.name}`, path: f.path })),
      ),
      uploads: [{ uri, body: JSON.stringify(batch) }],
      argv,
      batchResult: batch.resultPath,
      parts: batch.partitions.map((p, j) => ({
        name: b.partitions[j]!.name,
        target: p.targetPath,
        rejects: `s3://${CURATED}/_rejected/conformance/${p.runKey}/`,
        summary: p.summaryPath,
      })),
    };
  });
  const planFile = join(work, 'plan.json');
  const resultFile = join(work, 'result.json');
  writeFileSync(
    planFile,
    JSON.stringify({
      script: packaged.script,
      jars,
      buckets: [RAW, CURATED, ARTIFACTS],
      out,
      runs: [...runs, ...batchRuns],
    }),
  );
  execFileSync(venvBin('python'), [join(__dirname, 'harness.py'), planFile, resultFile], {
    stdio: ['ignore', 'ignore', process.env.SLUICE_SPARK_LOG ? 'inherit' : 'ignore'],
    env: { ...process.env, PYSPARK_PYTHON: venvBin('python'), SPARK_LOCAL_IP: '127.0.0.1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const result = JSON.parse(readFileSync(resultFile, 'utf8')) as {
    startupSeconds: number;
    runs: Array<SparkRun | SparkBatchRun>;
  };
  const singles = result.runs.filter((r): r is SparkRun => !('parts' in r));
  const batched = result.runs.filter((r): r is SparkBatchRun => 'parts' in r);
  const outcomes = new Map<string, Outcome>();
  for (const run of singles) {
    const folder = join(out, run.name);
    const files = (list: Array<{ key: string }>, sub: string, suffix: string) =>
      list.filter((o) => o.key.endsWith(suffix)).map((o) => join(folder, sub, o.key));
    outcomes.set(run.name, {
      state: run.state,
      error: run.error,
      parquet: files(run.target, 'target', '.parquet'),
      targetKeys: run.target.map((o) => o.key).sort(),
      rejects: files(run.rejects, 'rejects', '.csv'),
      summary: run.summary,
    });
  }
  const batchOutcomes = new Map<string, BatchOutcome>();
  for (const run of batched) {
    const b = batches.find((c) => c.name === run.name)!;
    const { batch } = batchRunOf(b);
    const partitions = new Map<string, Outcome>();
    run.parts.forEach((part, j) => {
      const folder = join(out, run.name, part.name);
      const files = (list: Array<{ key: string }>, sub: string, suffix: string) =>
        list.filter((o) => o.key.endsWith(suffix)).map((o) => join(folder, sub, o.key));
      partitions.set(
        part.name,
        partitionOutcome(run.batchResult, batch.partitions[j]!.runKey, {
          parquet: files(part.target, 'target', '.parquet'),
          targetKeys: part.target.map((o) => o.key).sort(),
          rejects: files(part.rejects, 'rejects', '.csv'),
          summary: part.summary,
        }),
      );
    });
    batchOutcomes.set(run.name, { state: run.state, error: run.error, result: run.batchResult, partitions });
  }
  return { outcomes, runs: singles, startupSeconds: result.startupSeconds, batchOutcomes, batchRuns: batched };
}

export interface SparkBatchRun {
  name: string;
  state: string;
  error: string | null;
  committed: boolean;
  seconds: number;
  batchResult: JobBatchResult | null;
  parts: Array<{
    name: string;
    target: Array<{ key: string; size: number }>;
    rejects: Array<{ key: string; size: number }>;
    summary: Record<string, unknown> | null;
  }>;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading back and comparing

export interface Difference {
  case: string;
  column: string;
  detail: string;
}

type Row = Record<string, unknown>;
const order = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));

/** Column names and DuckDB types of the Parquet output, and its rows as text (NULL kept), sorted. */
async function parquetOf(engine: LocalEngine, files: string[]) {
  if (files.length === 0) return { columns: [] as Array<[string, string]>, rows: [] as Row[] };
  const list = `[${files.map(quoteString).join(', ')}]`;
  const described = await engine.rows(`DESCRIBE SELECT * FROM read_parquet(${list}, hive_partitioning = false)`);
  const columns = described.map((d) => [String(d.column_name), String(d.column_type)] as [string, string]);
  const select = columns.map(([name]) => `CAST("${name}" AS VARCHAR) AS "${name}"`).join(', ');
  const rows = await engine.rows(`SELECT ${select} FROM read_parquet(${list}, hive_partitioning = false)`);
  return { columns, rows: rows.sort(order) };
}

/** Rejected rows as text; an empty field and an empty quoted field are both '' (Spark quotes empty strings). */
async function rejectsOf(engine: LocalEngine, files: string[]): Promise<Row[]> {
  if (files.length === 0) return [];
  const rows = await engine.rows(
    `SELECT * EXCLUDE (filename) FROM read_csv([${files.map(quoteString).join(', ')}], header = true, all_varchar = true, filename = true, union_by_name = true)`,
  );
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v ?? '']))).sort(order);
}

const SUMMARY_FIELDS = ['version', 'runKey', 'dataset', 'rowsIn', 'rowsOut', 'rowsBad'];

/** Every way the two outcomes of one case differ, each naming the case and the column (or part). */
export async function compareOutcomes(
  engine: LocalEngine,
  name: string,
  local: Outcome,
  spark: Outcome,
): Promise<Difference[]> {
  const diffs: Difference[] = [];
  const add = (column: string, detail: string) => diffs.push({ case: name, column, detail });
  if (local.state !== spark.state)
    add('(state)', `local ${local.state} (${local.error}), spark ${spark.state} (${spark.error})`);
  // As sluice reports them (the check step's failureMessage): Glue's exception class dropped, nothing clipped.
  // Where the rejected rows are differs by design: a file locally, a folder of Spark's part files on Glue.
  const asReported = (e: string | null) =>
    e === null
      ? null
      : failureMessage(e, 100_000).replace(/; rejected rows kept in \S+$/, '; rejected rows kept in <rejects>');
  const [le, se] = [asReported(local.error), asReported(spark.error)];
  if (le !== se) add('(message)', `local ${JSON.stringify(le)}, spark ${JSON.stringify(se)}`);
  const [l, s] = [await parquetOf(engine, local.parquet), await parquetOf(engine, spark.parquet)];
  const names = [...new Set([...l.columns, ...s.columns].map(([n]) => n))];
  for (const column of names) {
    const lt = l.columns.find(([n]) => n === column)?.[1];
    const st = s.columns.find(([n]) => n === column)?.[1];
    if (lt !== st) add(column, `type: local ${lt}, spark ${st}`);
  }
  if (l.rows.length !== s.rows.length) add('(rows)', `local ${l.rows.length} rows, spark ${s.rows.length}`);
  for (const column of names) {
    const lv = l.rows.map((r) => r[column] ?? null);
    const sv = s.rows.map((r) => r[column] ?? null);
    const at = lv.findIndex((v, i) => v !== sv[i]);
    if (at >= 0) add(column, `row ${at} (sorted): local ${JSON.stringify(lv[at])}, spark ${JSON.stringify(sv[at])}`);
  }
  const [lr, sr] = [await rejectsOf(engine, local.rejects), await rejectsOf(engine, spark.rejects)];
  if (lr.length !== sr.length) add('(rejects)', `local ${lr.length} rejected rows, spark ${sr.length}`);
  const rejectColumns = [...new Set([...lr, ...sr].flatMap((r) => Object.keys(r)))];
  for (const column of rejectColumns) {
    const at = lr.findIndex((r, i) => r[column] !== sr[i]?.[column]);
    if (at >= 0)
      add(
        `rejects.${column}`,
        `row ${at}: local ${JSON.stringify(lr[at]?.[column])}, spark ${JSON.stringify(sr[at]?.[column])}`,
      );
  }
  for (const field of SUMMARY_FIELDS)
    if (local.summary?.[field] !== spark.summary?.[field])
      add(
        `summary.${field}`,
        `local ${JSON.stringify(local.summary?.[field])}, spark ${JSON.stringify(spark.summary?.[field])}`,
      );
  if ((local.summary?.rejectsPath == null) !== (spark.summary?.rejectsPath == null))
    add('summary.rejectsPath', `local ${local.summary?.rejectsPath}, spark ${spark.summary?.rejectsPath}`);
  return diffs;
}

/** Target keys a successful Spark run may leave: its Parquet parts and the committer's _SUCCESS marker. */
export function leftovers(outcome: Outcome): string[] {
  return outcome.targetKeys.filter((k) => !/^part-[^/]+\.parquet$/.test(k) && k !== '_SUCCESS');
}

/**
 * The batch the engines are compared on: five CSV partitions of the conformance table under one dataset (bad-row
 * limit 50 %). Three convert (one with rejected rows under the limit); two fail, each in its own way: a ragged row
 * (a read error) and bad rows over the limit (with its rejects kept). The failed ones sit between good ones, so a
 * failure that leaked into the next partition would show.
 */
export const BATCH_PARTITIONS = [
  'csv-reordered',
  'csv-ragged-row',
  'csv-bad-values',
  'csv-too-many-bad-rows',
  'csv-quoted-header',
];
export const BATCH_FAILED = ['csv-ragged-row', 'csv-too-many-bad-rows'];

export function conformanceBatch(filesDir: string, mapping: ColumnMapping[]): BatchCase {
  return {
    name: 'batch',
    format: 'csv',
    mapping,
    maxBadRowsFraction: 0.5,
    partitions: BATCH_PARTITIONS.map((name) => ({
      name,
      files: readdirSync(join(filesDir, name))
        .filter((f) => f.endsWith('.csv'))
        .map((f) => ({ name: f, path: join(filesDir, name, f) })),
    })),
  };
}
