/**
 * Issue 22: the shipped Glue script runs on Spark 3.5.4 (Glue 5.0's Spark) and gives the same rows as the local
 * engine, case by case.
 * - The script is the one in the `sls package` output (the file the packaged job's ScriptLocation names), run with
 *   the packaged job's DefaultArguments plus the start step's run arguments (tests/spark/engines.ts).
 * - Every case of the conformance table runs on both engines: each file case (tests/conformance/files/<case>), and
 *   the value table (values.json) as one JSON-lines partition per type. Outputs are compared row by row: Parquet
 *   column types, values and NULLs, the rejected rows with their reasons and raw values, the row summary, and the
 *   partition's success or failure. Any difference names the case and the column.
 * - A partition of 1,000 CSV files under three headers, on both engines.
 * - A failed partition leaves nothing under its target prefix (no `_temporary`, no committer staging, no parts).
 * - A batch (issue 23, --sluice_batch): five partitions in one job run, two of them failing each in its own way, on
 *   both engines: each partition compared as above, and the batch results' outcomes.
 * Spark starts once for all of it (one harness process).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalEngine } from '../../adapters/local/duckdb';
import { failureMessage } from '../../domain/common';
import { packageStage } from '../support/package-stack';
import { DEFAULT_MAPPING, expectedOf, FILES, fileCases, formatOf, valueCases } from '../conformance/table';
import {
  BATCH_FAILED,
  BATCH_PARTITIONS,
  compareOutcomes,
  conformanceBatch,
  leftovers,
  packagedGlueJob,
  runLocal,
  runLocalBatch,
  runSpark,
  type BatchCase,
  type BatchOutcome,
  type Difference,
  type JobCase,
  type Outcome,
  type SparkBatchRun,
  type SparkRun,
} from './engines';

const SCALE_FILES = 1000;
const SCALE_ROWS_PER_FILE = 10;

function conformanceFileCases(): JobCase[] {
  return fileCases.map((name) => {
    const expected = expectedOf(name);
    return {
      name,
      format: formatOf(name),
      mapping: expected.mapping ?? DEFAULT_MAPPING,
      files: readdirSync(join(FILES, name))
        .filter((f) => f !== 'expected.json' && !f.endsWith('.sql'))
        .map((f) => ({ name: f, path: join(FILES, name, f) })),
      ...(expected.missingColumns ? { missingColumns: expected.missingColumns } : {}),
      ...(expected.raw ? { raw: expected.raw } : {}),
      ...(expected.maxBadRowsFraction !== undefined ? { maxBadRowsFraction: expected.maxBadRowsFraction } : {}),
    };
  });
}

/**
 * The value table as one JSON-lines partition: a member per type (v_int, v_decimal_12_2, ...), one line per value
 * with only its own type's member ({"i": row, "v_int": input}), so a bad value rejects only its own row.
 */
function valueTableCase(dir: string): JobCase {
  const types = [...new Set(valueCases.map((c) => c.type))];
  const member = (type: string) => `v_${type.replace(/[^a-z0-9]+/g, '_').replace(/_$/, '')}`;
  const path = join(dir, 'values.json');
  const lines = valueCases.map((c, i) => JSON.stringify({ i, [member(c.type)]: c.input }));
  writeFileSync(path, lines.join('\n') + '\n');
  return {
    name: 'values',
    format: 'json',
    mapping: [
      { source: 'i', target: 'i', type: 'int' },
      ...types.map((type) => ({ source: member(type), target: member(type), type })),
    ],
    files: [{ name: 'values.json', path }],
  };
}

/** 1,000 CSV files under three headers (column order and an extra column), a bad value every 997 rows. */
function scaleCase(dir: string): JobCase {
  const headers = [
    ['id', 'amount', 'customer'],
    ['customer', 'id', 'amount'],
    ['amount', 'note', 'customer', 'id'],
  ];
  mkdirSync(dir, { recursive: true });
  const files = [];
  let row = 0;
  for (let f = 0; f < SCALE_FILES; f += 1) {
    const header = headers[f % headers.length]!;
    const lines = [header.join(',')];
    for (let r = 0; r < SCALE_ROWS_PER_FILE; r += 1, row += 1) {
      const values: Record<string, string> = {
        id: String(row),
        amount: row % 997 === 0 ? 'n/a' : `${(row % 10_000) / 100}`,
        customer: `c${row % 13}`,
        note: 'x',
      };
      lines.push(header.map((h) => values[h]).join(','));
    }
    const name = `part-${String(f).padStart(5, '0')}.csv`;
    writeFileSync(join(dir, name), lines.join('\n') + '\n');
    files.push({ name, path: join(dir, name) });
  }
  return { name: 'scale', format: 'csv', mapping: DEFAULT_MAPPING, files };
}

let engine: LocalEngine;
let work: string;
let cases: JobCase[];
const local = new Map<string, Outcome>();
let spark: {
  outcomes: Map<string, Outcome>;
  runs: SparkRun[];
  startupSeconds: number;
  batchOutcomes: Map<string, BatchOutcome>;
  batchRuns: SparkBatchRun[];
};
let batches: BatchCase[];
let localBatch: BatchOutcome;

beforeAll(async () => {
  engine = await LocalEngine.open(1);
  work = mkdtempSync(join(tmpdir(), 'sluice-spark-'));
  const packaged = await packageStage('dev');
  const glueJob = packagedGlueJob(packaged.dir, packaged.template);
  cases = [...conformanceFileCases(), valueTableCase(work), scaleCase(join(work, 'scale-files'))];
  // SLUICE_SPARK_CASES=<regex> runs only the matching cases (a developer's loop; the tests then fail on the others).
  const only = process.env.SLUICE_SPARK_CASES;
  batches = [conformanceBatch(FILES, DEFAULT_MAPPING)];
  if (only) cases = cases.filter((c) => new RegExp(only).test(c.name));
  if (only) batches = batches.filter((b) => new RegExp(only).test(b.name));
  for (const c of cases) local.set(c.name, await runLocal(engine, join(work, 'local'), c));
  if (batches[0]) localBatch = await runLocalBatch(engine, join(work, 'local-batch'), batches[0]);
  spark = runSpark(glueJob, cases, work, batches);
}, 1_200_000);

afterAll(() => {
  engine?.close();
  // SLUICE_SPARK_KEEP=1 keeps the plan, the harness's result and both engines' outputs for a look.
  if (work && !process.env.SLUICE_SPARK_KEEP) rmSync(work, { recursive: true, force: true });
});

const conformanceNames = () => cases.filter((c) => c.name !== 'scale').map((c) => c.name);

test('every conformance case gives the same outcome on Spark as on the local engine', async () => {
  const differences: Difference[] = [];
  let identical = 0;
  for (const name of conformanceNames()) {
    const found = await compareOutcomes(engine, name, local.get(name)!, spark.outcomes.get(name)!);
    differences.push(...found);
    if (found.length === 0) identical += 1;
  }
  process.stdout.write(`spark conformance: cases ${conformanceNames().length} identical: ${identical}\n`);
  expect(differences.map((d) => `${d.case} / ${d.column}: ${d.detail}`)).toEqual([]);
  // Both engines agree, and agree with the table (the local engine is held to it by tests/conformance).
  for (const name of fileCases) expect([name, spark.outcomes.get(name)?.state]).toEqual([name, expectedOf(name).state]);
});

test('failure messages name the case the table expects, on Spark too', () => {
  for (const name of fileCases) {
    const expected = expectedOf(name);
    // As sluice reports it (the check step's failureMessage drops the script's ValueError prefix).
    const raw = spark.outcomes.get(name)?.error ?? null;
    const error = raw === null ? null : failureMessage(raw, 100_000);
    if (expected.error) expect([name, error]).toEqual([name, expected.error]);
    if (expected.errorMatches)
      expect([name, error]).toEqual([name, expect.stringMatching(new RegExp(expected.errorMatches))]);
  }
});

test('a failed partition leaves nothing under its target; a successful one only its parts and _SUCCESS', () => {
  for (const name of conformanceNames()) {
    const outcome = spark.outcomes.get(name)!;
    if (outcome.state === 'FAILED') expect([name, outcome.targetKeys]).toEqual([name, []]);
    else expect([name, leftovers(outcome)]).toEqual([name, []]);
  }
});

test('every successful run commits the job and writes its summary, with the --JOB_RUN_ID Glue gave it; a failed one writes none', () => {
  spark.runs.forEach((run, i) => {
    expect([run.name, run.committed, run.summary !== null]).toEqual([
      run.name,
      run.state === 'SUCCEEDED',
      run.state === 'SUCCEEDED',
    ]);
    if (run.summary)
      expect([run.name, run.summary.jobRunId]).toEqual([run.name, `jr_spark_${String(i + 1).padStart(5, '0')}`]);
  });
});

test('a partition of 1,000 files under three headers: one read per header, the same rows as the local engine', async () => {
  const outcome = spark.outcomes.get('scale')!;
  const run = spark.runs.find((r) => r.name === 'scale')!;
  const differences = await compareOutcomes(engine, 'scale', local.get('scale')!, outcome);
  const rows = Number(outcome.summary?.rowsIn ?? 0);
  process.stdout.write(
    `spark scale: files ${SCALE_FILES} rows ${rows} seconds ${run.seconds.toFixed(1)} identical: ${differences.length === 0 ? 'yes' : 'no'}\n`,
  );
  expect(differences).toEqual([]);
  expect(outcome.summary).toMatchObject({ rowsIn: SCALE_FILES * SCALE_ROWS_PER_FILE, rowsBad: 11 });
});

test('a batch of partitions in one job run: each partition as on the local engine, one failure fails only itself', async () => {
  const batch = batches[0]!;
  const onSpark = spark.batchOutcomes.get(batch.name)!;
  const run = spark.batchRuns.find((r) => r.name === batch.name)!;
  const differences: string[] = [];
  for (const name of BATCH_PARTITIONS) {
    const found = await compareOutcomes(engine, name, localBatch.partitions.get(name)!, onSpark.partitions.get(name)!);
    differences.push(...found.map((d) => `${d.case} / ${d.column}: ${d.detail}`));
  }
  // The batch results: the same partitions, in the batch's order, with the same outcomes.
  const outcomes = (b: BatchOutcome) => b.result?.partitions.map((p) => [p.partition.case, p.runKey, p.ok]) ?? null;
  if (JSON.stringify(outcomes(localBatch)) !== JSON.stringify(outcomes(onSpark)))
    differences.push(
      `batch result: local ${JSON.stringify(outcomes(localBatch))}, spark ${JSON.stringify(outcomes(onSpark))}`,
    );
  const failed = onSpark.result?.partitions.filter((p) => !p.ok).length ?? -1;
  process.stdout.write(
    `spark batch: partitions ${BATCH_PARTITIONS.length} failed ${failed} identical: ${differences.length === 0 ? 'yes' : 'no'}\n`,
  );
  expect(differences).toEqual([]);
  // The run succeeded (it could process its batch) and committed; the failures are in its result.
  expect([onSpark.state, onSpark.error, run.committed]).toEqual(['SUCCEEDED', null, true]);
  expect(localBatch.state).toBe('SUCCEEDED');
  expect(onSpark.result?.partitions.map((p) => [p.partition.case, p.ok])).toEqual(
    BATCH_PARTITIONS.map((name) => [name, !BATCH_FAILED.includes(name)]),
  );
  expect(onSpark.result?.jobRunId).toBe('jr_spark_batch_00001');
  for (const name of BATCH_PARTITIONS) {
    const outcome = onSpark.partitions.get(name)!;
    if (BATCH_FAILED.includes(name)) {
      // Nothing under a failed partition's target, no summary; the over-limit one keeps its rejects.
      expect([name, outcome.targetKeys, outcome.summary]).toEqual([name, [], null]);
    } else {
      expect([name, leftovers(outcome)]).toEqual([name, []]);
      expect([name, outcome.summary?.jobRunId]).toEqual([name, 'jr_spark_batch_00001']);
    }
  }
  expect(onSpark.partitions.get('csv-too-many-bad-rows')?.rejects.length).toBeGreaterThan(0);
});
