/**
 * Reading a batch run's outcome (issue 23): batchPartitionResults gives each partition of the batch its own result,
 * as a single run's check would, and refuses a result object it cannot trust (domain/rows/job-summary.ts
 * parseJobBatchResult). Executed on both engines' real output: tests/conformance/local-batch.test.ts, tests/spark/.
 */
import {
  s3Uri,
  type ObjectLocation,
  JobSummaryInvalidError,
  JobSummaryMissingError,
  type JobRunInfo,
} from '../../domain/common';
import { jobRowSummary } from '../../domain/rows';
import { batchPartitionResults, jobBatch, jobBatchLocation } from '../../domain/steps/jobs';
import type { JobBatchResult } from '../../schemas/types.generated';
import { testConfig } from '../support/fakes';

const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-dev:run-1';
const dataset = testConfig().datasets[0]!;
const location = jobBatchLocation('artifacts', EXECUTION, 0);
const batch = jobBatch(
  dataset,
  ['05', '06', '07'].map((day) => ({ partition: { year: '2024', month: '01', day } })),
  EXECUTION,
  location,
  { bucket: 'artifacts' },
);
const run: JobRunInfo = { id: 'jr_1', state: 'SUCCEEDED', arguments: {} };
const summary = (runKey: string, rowsIn: number, rowsBad: number) =>
  jobRowSummary({ jobRunId: 'jr_1', runKey, dataset: dataset.name, rowsIn, rowsBad, rejectsPath: null });

function goodResult(): JobBatchResult {
  const [a, b, c] = batch.partitions;
  return {
    version: 1,
    jobRunId: 'jr_1',
    dataset: dataset.name,
    batchKey: batch.batchKey,
    partitions: [
      { partition: a!.partition, runKey: a!.runKey, ok: true, summary: summary(a!.runKey, 10, 1) },
      {
        partition: b!.partition,
        runKey: b!.runKey,
        ok: false,
        message: "ValueError: a.csv line 3: the row does not have the header's 3 fields",
      },
      { partition: c!.partition, runKey: c!.runKey, ok: true, summary: summary(c!.runKey, 4, 0) },
    ],
  };
}

const storeWith = (result: unknown) => ({
  get: async (l: ObjectLocation) => (s3Uri(l) === batch.resultPath ? JSON.stringify(result) : null),
});

test('a SUCCEEDED batch run: each partition its own outcome, rows and reason, in the batch order', async () => {
  const results = await batchPartitionResults(batch, run, storeWith(goodResult()));
  expect(results).toEqual([
    { partition: batch.partitions[0]!.partition, ok: true, state: 'SUCCEEDED', rows: { in: 10, out: 9, bad: 1 } },
    {
      partition: batch.partitions[1]!.partition,
      ok: false,
      state: 'FAILED',
      // As a single run's message reads: the script's exception class dropped, the file and line first.
      message: "a.csv line 3: the row does not have the header's 3 fields",
    },
    { partition: batch.partitions[2]!.partition, ok: true, state: 'SUCCEEDED', rows: { in: 4, out: 4, bad: 0 } },
  ]);
});

test('a run that did not succeed fails every partition of its batch, with its message', async () => {
  for (const state of ['FAILED', 'TIMEOUT', 'ERROR'] as const) {
    const results = await batchPartitionResults(
      batch,
      { ...run, state, errorMessage: 'Driver killed' },
      storeWith(null),
    );
    expect(results.map((r) => [r.ok, r.state, r.message])).toEqual(
      batch.partitions.map(() => [false, state, 'Driver killed']),
    );
  }
  const [first] = await batchPartitionResults(batch, { ...run, state: 'STOPPED' }, storeWith(null));
  expect(first?.message).toBe('job run jr_1 ended STOPPED');
});

test('a SUCCEEDED run without its result object is an error, never all-succeeded', async () => {
  await expect(batchPartitionResults(batch, run, { get: async () => null })).rejects.toThrow(JobSummaryMissingError);
});

test.each([
  ['not JSON', () => '{', /is not JSON/],
  ['another batch', () => ({ ...goodResult(), batchKey: 'sb1-other' }), /is of batch sb1-other/],
  ['another run', () => ({ ...goodResult(), jobRunId: 'jr_2' }), /written by job run jr_2, not by jr_1/],
  [
    'a partition missing',
    () => ({ ...goodResult(), partitions: goodResult().partitions.slice(1) }),
    /lists 2 partitions, not the batch's 3/,
  ],
  [
    'a success without summary',
    () => {
      const r = goodResult();
      delete r.partitions[0]!.summary;
      return r;
    },
    /succeeded without a summary/,
  ],
  [
    'a summary that does not add up',
    () => {
      const r = goodResult();
      r.partitions[2]!.summary = { ...r.partitions[2]!.summary!, rowsOut: 5 };
      return r;
    },
    /does not add up/,
  ],
  ['not a JobBatchResult', () => ({ ...goodResult(), version: 2 }), /version/],
])('a result object that is %s is refused', async (_what, make, message) => {
  const made = make();
  const store = { get: async () => (typeof made === 'string' ? made : JSON.stringify(made)) };
  const attempt = batchPartitionResults(batch, run, store);
  await expect(attempt).rejects.toThrow(JobSummaryInvalidError);
  await expect(batchPartitionResults(batch, run, store)).rejects.toThrow(message);
});
