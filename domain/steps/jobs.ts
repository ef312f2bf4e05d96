import { createHash } from 'node:crypto';
import type {
  CheckJobRunInput,
  JobBatch,
  JobBatchPartition,
  JobRunResult,
  JobRunState,
  JobRunSummary,
  StartJobRunInput,
  SummarizeJobRunsInput,
  PartitionValues,
} from '../../schemas/types.generated';
import {
  executionPrefix,
  parseS3Uri,
  s3Uri,
  type ArtifactStore,
  type ObjectLocation,
  ConcurrentRunsExceededError,
  InvalidInputError,
  JobSummaryMissingError,
  failureMessage,
  validate,
  FINISHED_JOB_STATES,
  type JobRunInfo,
  type Log,
} from '../common';
import {
  glueContractArguments,
  jobSummaryLocation,
  parseJobBatchResult,
  parseJobSummary,
  readJobRows,
  summaryArgument,
} from '../rows';
import {
  datasetNamed,
  type ResolvedDataset,
  assertPartition,
  partitionKey,
  rawPartitionPrefix,
  targetPartitionPrefix,
  nextPollSeconds,
  secondsBetween,
} from '../config';
import { jobRowMetrics } from '../metrics';
import { artifactsOf } from '../inputs';
import type { Deps } from '../deps';

export const RUN_KEY_ARGUMENT = '--sluice_run_key';
/** How many of the job's most recent runs the start step searches for its run key. */
export const RUN_LOOKUP_LIMIT = 600;
const MESSAGE_LIMIT = 200;

/** Run key: `sk1-` + 40 hex of sha256(executionArn + partition key). Same execution and partition, same key. */
export function jobRunKey(executionArn: string, partition: string): string {
  return `sk1-${createHash('sha256').update(`${executionArn}\n${partition}`).digest('hex').slice(0, 40)}`;
}

const isFinished = (state: string): boolean => (FINISHED_JOB_STATES as readonly string[]).includes(state);

export function truncate(text: string, limit = MESSAGE_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/**
 * Arguments every run gets: where to read, where to write, how to map, and (when the stage has an artifacts store)
 * where to write its row summary. The Glue script reads exactly these.
 */
export function jobArguments(
  dataset: ResolvedDataset,
  partition: PartitionValues,
  runKey: string,
  summary?: ObjectLocation,
): Record<string, string> {
  const { dataset: name, format, mapping, maxBadRowsFraction, contract } = datasetArguments(dataset);
  return {
    ...dataset.job.arguments,
    '--sluice_dataset': name,
    '--sluice_partition': JSON.stringify(partition),
    '--sluice_source_path': `s3://${dataset.raw.bucket}/${rawPartitionPrefix(dataset, partition)}`,
    '--sluice_target_path': `s3://${dataset.target.bucket}/${targetPartitionPrefix(dataset, partition)}`,
    '--sluice_format': format,
    '--sluice_mapping': mapping,
    '--sluice_max_bad_rows_fraction': maxBadRowsFraction,
    // The cast contract (issue 11): the Glue script applies exactly what TypeScript decided.
    ...contract,
    [RUN_KEY_ARGUMENT]: runKey,
    ...(summary ? summaryArgument(summary) : {}),
  };
}

/**
 * The batch form of a job run (issue 23; docs/batches.md): one run converts the partitions of a JobBatch file named
 * by `--sluice_batch`. Each partition keeps its own run key (the one a single-partition run of it would have), so its
 * rejects folder and row summary are where they would be without batching.
 */
export const BATCH_ARGUMENT = '--sluice_batch';

/**
 * Glue limits a run's job arguments to 260 KB in all ("Job arguments have a maximum size limit of 260 KB. A
 * validation check will fail if the argument size is greater than 260 KB.",
 * https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-glue-arguments.html). The cast contract alone
 * is a few KB per dataset, so partition lists travel in a batch file, never inline.
 */
export const GLUE_ARGUMENTS_MAX_BYTES = 260 * 1024;

/** `runs/<state machine>/<execution>/batches/<n>.json` in the artifacts bucket: stable across a redrive. */
export function jobBatchLocation(bucket: string, executionArn: string, index: number): ObjectLocation {
  if (!Number.isInteger(index) || index < 0) throw new InvalidInputError(`batch index ${index} is not a whole number`);
  return { bucket, key: `${executionPrefix(executionArn)}batches/${index}.json` };
}

/** The batch's result object, next to its batch file: `<n>.result.json`. */
export function jobBatchResultLocation(batch: ObjectLocation): ObjectLocation {
  return { bucket: batch.bucket, key: batch.key.replace(/\.json$/, '') + '.result.json' };
}

/** The batch's run key: its execution and its partitions (in order). Same batch of the same execution, same key. */
export function jobBatchKey(executionArn: string, partitionKeys: readonly string[]): string {
  return `sb1-${createHash('sha256')
    .update([executionArn, ...partitionKeys].join('\n'))
    .digest('hex')
    .slice(0, 40)}`;
}

/**
 * The JobBatch of these partitions: for each, exactly what jobArguments gives a single-partition run (source, target,
 * run key, summary location). `summaries`: the artifacts bucket, when the stage has one (then each partition writes
 * its JobRowSummary, as a single run does).
 */
export function jobBatch(
  dataset: ResolvedDataset,
  partitions: ReadonlyArray<{ partition: PartitionValues; bytes?: number }>,
  executionArn: string,
  location: ObjectLocation,
  summaries?: { bucket: string },
): JobBatch {
  if (partitions.length === 0) throw new InvalidInputError(`batch ${s3Uri(location)} has no partitions`);
  const keys = partitions.map((p) => partitionKey(dataset, p.partition));
  if (new Set(keys).size !== keys.length)
    throw new InvalidInputError(`batch ${s3Uri(location)} lists a partition twice`);
  return {
    version: 1,
    dataset: dataset.name,
    batchKey: jobBatchKey(executionArn, keys),
    resultPath: s3Uri(jobBatchResultLocation(location)),
    partitions: partitions.map(({ partition, bytes }, i): JobBatchPartition => {
      const runKey = jobRunKey(executionArn, keys[i]!);
      return {
        partition,
        runKey,
        sourcePath: `s3://${dataset.raw.bucket}/${rawPartitionPrefix(dataset, partition)}`,
        targetPath: `s3://${dataset.target.bucket}/${targetPartitionPrefix(dataset, partition)}`,
        ...(summaries ? { summaryPath: s3Uri(jobSummaryLocation(summaries.bucket, dataset.name, runKey)) } : {}),
        ...(bytes !== undefined ? { bytes } : {}),
      };
    }) as JobBatch['partitions'],
  };
}

/**
 * The arguments of a batch run: the dataset's (format, mapping, contract, limits), the batch file, and the batch's
 * key as the run key. No partition, source or target: those are per partition, in the file.
 */
export function jobBatchArguments(
  dataset: ResolvedDataset,
  batch: JobBatch,
  location: ObjectLocation,
): Record<string, string> {
  const { dataset: name, format, mapping, maxBadRowsFraction, contract } = datasetArguments(dataset);
  return assertArgumentsFit({
    ...dataset.job.arguments,
    '--sluice_dataset': name,
    '--sluice_format': format,
    '--sluice_mapping': mapping,
    '--sluice_max_bad_rows_fraction': maxBadRowsFraction,
    ...contract,
    [RUN_KEY_ARGUMENT]: batch.batchKey,
    [BATCH_ARGUMENT]: s3Uri(location),
  });
}

/** Refuses arguments over Glue's 260 KB (counted as UTF-8 bytes of names and values), naming the largest. */
export function assertArgumentsFit(args: Record<string, string>): Record<string, string> {
  const sizes = Object.entries(args).map(([k, v]) => [k, Buffer.byteLength(k) + Buffer.byteLength(v)] as const);
  const total = sizes.reduce((sum, [, n]) => sum + n, 0);
  if (total > GLUE_ARGUMENTS_MAX_BYTES) {
    const [largest, bytes] = [...sizes].sort((a, b) => b[1] - a[1])[0]!;
    throw new InvalidInputError(
      `job arguments are ${total} bytes, over Glue's ${GLUE_ARGUMENTS_MAX_BYTES} (260 KB); the largest is ${largest} (${bytes} bytes)`,
    );
  }
  return args;
}

/**
 * Each partition's result from a finished batch run, in the batch's order, as a single-partition run's result
 * (finishedResult) would be. The run SUCCEEDED: each partition's own outcome from the batch result (a missing result
 * object is JobSummaryMissingError, as a missing summary is). The run did not succeed (it could not process the
 * batch: unreadable batch file, a crash, a timeout): every partition of it failed, with the run's message.
 */
export async function batchPartitionResults(
  batch: JobBatch,
  run: JobRunInfo,
  artifacts: { get(location: ObjectLocation): Promise<string | null> },
): Promise<JobRunResult[]> {
  if (run.state !== 'SUCCEEDED') {
    const message = failureMessage(run.errorMessage ?? `job run ${run.id} ended ${run.state}`, MESSAGE_LIMIT);
    return batch.partitions.map((p) => ({ partition: p.partition, ok: false, state: run.state, message }));
  }
  const text = await artifacts.get(parseS3Uri(batch.resultPath, `batch ${batch.batchKey} resultPath`));
  if (text === null)
    throw new JobSummaryMissingError(
      `job run ${run.id} SUCCEEDED but wrote no batch result at ${batch.resultPath} (the job writes it before it ends)`,
    );
  const result = parseJobBatchResult(text, batch.resultPath, batch, run.id);
  const byKey = new Map(result.partitions.map((p) => [p.runKey, p]));
  return batch.partitions.map((p) => {
    const outcome = byKey.get(p.runKey)!;
    if (!outcome.ok)
      return {
        partition: p.partition,
        ok: false,
        state: 'FAILED',
        message: failureMessage(outcome.message ?? 'failed without a message', MESSAGE_LIMIT),
      };
    const rows = parseJobSummary(JSON.stringify(outcome.summary), `${batch.resultPath} (${p.runKey})`, run.id);
    return { partition: p.partition, ok: true, state: 'SUCCEEDED', rows };
  });
}

/**
 * The arguments that depend on the dataset alone, rendered once per resolved config: the cast contract's rendering
 * is the costliest part of a start (about 0.2 ms), and a run starts one job per partition (issue 14).
 */
interface DatasetArguments {
  /** What they were rendered from: a dataset object edited in place (tests do) is rendered again. */
  from: unknown[];
  dataset: string;
  format: string;
  mapping: string;
  maxBadRowsFraction: string;
  contract: Record<string, string>;
}
const perDataset = new WeakMap<ResolvedDataset, DatasetArguments>();

function datasetArguments(dataset: ResolvedDataset): DatasetArguments {
  let rendered = perDataset.get(dataset);
  const from = [
    dataset.name,
    dataset.raw.format,
    dataset.raw.nullValues,
    dataset.raw.timeZone,
    dataset.mapping,
    dataset.job.maxBadRowsFraction,
    dataset.job.missingColumns,
  ];
  if (!rendered || rendered.from.some((part, i) => part !== from[i])) {
    rendered = {
      from,
      dataset: dataset.name,
      format: dataset.raw.format,
      mapping: JSON.stringify(dataset.mapping),
      maxBadRowsFraction: String(dataset.job.maxBadRowsFraction),
      contract: glueContractArguments(dataset),
    };
    perDataset.set(dataset, rendered);
  }
  return rendered;
}

/**
 * A finished run as a result; a SUCCEEDED one carries the rows its summary reports (domain/rows/job-summary.ts) and records
 * them as RowsIn/RowsOut/RowsBad (deps.metrics). This runs only where a run becomes a result (done: true): a poll that
 * sees RUNNING reads and records nothing, and the state machine leaves the wait loop at done, so it happens once per
 * job run, whoever calls the core (the check step, the start step attaching to a finished run, a completion event).
 * The one way to record twice is a retry of the same step after it recorded (its Lambda timed out after this point,
 * or its output failed validation): at most one extra record, in a window of milliseconds.
 */
async function finishedResult(
  partition: PartitionValues,
  run: JobRunInfo,
  where: { dataset: string; executionArn: string },
  deps: Deps,
  log: Log,
): Promise<JobRunResult> {
  const result: JobRunResult = { partition, ok: run.state === 'SUCCEEDED', state: run.state };
  if (run.state !== 'SUCCEEDED') {
    // The file (and line) the job names first, only the cause clipped (issue 25; domain/common/failure-message.ts).
    result.message = failureMessage(run.errorMessage ?? `job run ${run.id} ended ${run.state}`, MESSAGE_LIMIT);
    return result;
  }
  const rows = await readJobRows(run, deps.artifacts, log);
  if (rows) {
    result.rows = rows;
    deps.metrics?.record(jobRowMetrics(where.dataset, rows), where.executionArn);
  }
  return result;
}

/** An unfinished run of the same dataset and partition under another run key (another execution's run). */
function isOtherWriterOf(run: JobRunInfo, dataset: string, partition: PartitionValues, runKey: string): boolean {
  return (
    !isFinished(run.state) &&
    run.arguments[RUN_KEY_ARGUMENT] !== runKey &&
    run.arguments['--sluice_dataset'] === dataset &&
    run.arguments['--sluice_partition'] === JSON.stringify(partition)
  );
}

/**
 * Starts one partition's Glue job run, unless a run with this (execution, partition) key is already alive or has
 * succeeded: then it attaches to that run. If the look-up itself fails, the error propagates (and is retried)
 * rather than starting a run blindly.
 */
export async function startJobRun(input: StartJobRunInput, deps: Deps, log: Log): Promise<JobRunState> {
  if (input.batch?.index !== undefined) return startBatchRun(input, input.batch.index, deps, log);
  const dataset = datasetNamed(deps.config, input.dataset);
  const partition = assertPartition(dataset, input.partition);
  const runKey = jobRunKey(input.executionArn, partitionKey(dataset, partition));
  const jobName = dataset.job.name;
  // Both look-ups below concern runs of this partition: an indexed store answers them without a scan (issue 14).
  const recent = deps.jobs.listJobRunsOfPartition
    ? await deps.jobs.listJobRunsOfPartition(jobName, JSON.stringify(partition))
    : await deps.jobs.listRecentJobRuns(jobName, RUN_LOOKUP_LIMIT);
  const earlier = recent.find((run) => run.arguments[RUN_KEY_ARGUMENT] === runKey);
  const now = deps.clock.now().toISOString();
  if (earlier && (!isFinished(earlier.state) || earlier.state === 'SUCCEEDED')) {
    const done = earlier.state === 'SUCCEEDED';
    log.info('attached to an earlier run of this partition', { runId: earlier.id, state: earlier.state });
    const state: JobRunState = {
      runId: earlier.id,
      runKey,
      attached: true,
      startedAt: earlier.startedAt ?? now,
      done,
      waitSeconds: done ? 0 : dataset.polling.minSeconds,
    };
    if (done) state.result = await finishedResult(partition, earlier, { ...input, dataset: dataset.name }, deps, log);
    return state;
  }
  const writer = recent.find((run) => isOtherWriterOf(run, dataset.name, partition, runKey));
  if (writer)
    // A dead execution's job run keeps running (Step Functions does not stop it), and its claim came back to
    // pending, which is how this run got the partition. Two writers on one partition overwrite each other, so
    // wait for it to end (retried with backoff, like a full job), then write with every file that has landed.
    throw new ConcurrentRunsExceededError(
      `partition ${JSON.stringify(partition)} is still being written by job run ${writer.id} of another ` +
        `execution (${writer.state}); waiting for it to end before starting this one`,
    );
  const summary = deps.artifacts ? jobSummaryLocation(deps.artifacts.bucket, dataset.name, runKey) : undefined;
  const runId = await deps.jobs.startJobRun(jobName, jobArguments(dataset, partition, runKey, summary));
  log.info('job run started', { runId, jobName });
  return { runId, runKey, attached: false, startedAt: now, done: false, waitSeconds: dataset.polling.minSeconds };
}

/** Polls one job run; every terminal state becomes a result (a failed partition is data, not an exception). */
export async function checkJobRun(input: CheckJobRunInput, deps: Deps, log: Log): Promise<JobRunState> {
  const dataset = datasetNamed(deps.config, input.dataset);
  const run = await deps.jobs.getJobRun(dataset.job.name, input.job.runId);
  if (isFinished(run.state)) {
    const result =
      input.batch?.index !== undefined
        ? await finishedBatchResult(input.batch.index, run, { ...input, dataset: dataset.name }, deps, log)
        : await finishedResult(input.partition, run, { ...input, dataset: dataset.name }, deps, log);
    (result.ok ? log.info : log.warn).call(log, 'job run finished', {
      runId: run.id,
      state: run.state,
      rows: result.rows,
    });
    return { ...input.job, done: true, waitSeconds: 0, result };
  }
  const waitSeconds = nextPollSeconds(secondsBetween(input.job.startedAt, deps.clock.now()), dataset.polling);
  log.debug('job run still running', { runId: run.id, state: run.state, waitSeconds });
  return { ...input.job, done: false, waitSeconds };
}

/** The JobBatch file of batch `index` of this execution, validated (the plan step wrote it). */
export async function readJobBatch(
  store: ArtifactStore,
  executionArn: string,
  index: number,
): Promise<{ batch: JobBatch; location: ObjectLocation }> {
  const location = jobBatchLocation(store.bucket, executionArn, index);
  const text = await store.get(location);
  if (text === null) throw new InvalidInputError(`batch ${s3Uri(location)} does not exist (the plan step writes it)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`batch ${s3Uri(location)} is not JSON: ${(error as Error).message}`);
  }
  return { batch: validate<JobBatch>('JobBatch', parsed, `batch ${s3Uri(location)}`), location };
}

/** Where the check step writes a batch's per-partition results (a JSON array of JobRunResult), beside its file. */
export function batchResultsLocation(batch: ObjectLocation): ObjectLocation {
  return { bucket: batch.bucket, key: batch.key.replace(/\.json$/, '') + '.partitions.json' };
}

/**
 * Starts the Glue job run of one planned batch (docs/batches.md), or attaches to the run an earlier attempt of
 * this step started: the batch's key is its run key, as a partition's is for a single run.
 * A single run also waits for another execution's unfinished run of its partition; a batch does not look for
 * one (that would read every recent batch file): the lease lets one execution run a dataset at a time, and a dead
 * execution's run still going is the rare case a single run guards against.
 */
async function startBatchRun(input: StartJobRunInput, index: number, deps: Deps, log: Log): Promise<JobRunState> {
  const dataset = datasetNamed(deps.config, input.dataset);
  const { batch, location } = await readJobBatch(artifactsOf(deps), input.executionArn, index);
  const jobName = dataset.job.name;
  const recent = await deps.jobs.listRecentJobRuns(jobName, RUN_LOOKUP_LIMIT);
  const earlier = recent.find((run) => run.arguments[RUN_KEY_ARGUMENT] === batch.batchKey);
  const now = deps.clock.now().toISOString();
  const base = { runKey: batch.batchKey, waitSeconds: dataset.polling.minSeconds };
  if (earlier && (!isFinished(earlier.state) || earlier.state === 'SUCCEEDED')) {
    const done = earlier.state === 'SUCCEEDED';
    log.info('attached to an earlier run of this batch', { runId: earlier.id, state: earlier.state, index });
    const state: JobRunState = {
      ...base,
      runId: earlier.id,
      attached: true,
      startedAt: earlier.startedAt ?? now,
      done,
    };
    if (done) {
      state.waitSeconds = 0;
      state.result = await finishedBatchResult(index, earlier, { ...input, dataset: dataset.name }, deps, log);
    }
    return state;
  }
  const runId = await deps.jobs.startJobRun(jobName, jobBatchArguments(dataset, batch, location));
  log.info('batch job run started', { runId, jobName, index, partitions: batch.partitions.length });
  return { ...base, runId, attached: false, startedAt: now, done: false };
}

/**
 * A finished batch run as one result: its partitions' own results (batchPartitionResults) written beside the
 * batch file for the summary, their counts, and the rows they add up to (recorded as RowsIn/RowsOut/RowsBad, once
 * per job run as for a single run; the metrics are per dataset, so the sum records what each partition would).
 * Small whatever the batch's size: a Map child's output stays far under Step Functions' 256 KiB.
 */
async function finishedBatchResult(
  index: number,
  run: JobRunInfo,
  where: { dataset: string; executionArn: string },
  deps: Deps,
  log: Log,
): Promise<JobRunResult> {
  const store = artifactsOf(deps);
  const { batch, location } = await readJobBatch(store, where.executionArn, index);
  const results = await batchPartitionResults(batch, run, store);
  const resultsAt = batchResultsLocation(location);
  await store.put(resultsAt, JSON.stringify(results), 'application/json');
  const failed = results.filter((r) => !r.ok);
  const rows = results.reduce(
    (sum, r) => (r.rows ? { in: sum.in + r.rows.in, out: sum.out + r.rows.out, bad: sum.bad + r.rows.bad } : sum),
    { in: 0, out: 0, bad: 0 },
  );
  const succeeded = results.length - failed.length;
  if (succeeded > 0) deps.metrics?.record(jobRowMetrics(where.dataset, rows), where.executionArn);
  if (failed.length > 0) log.warn('batch partitions failed', { runId: run.id, index, failed: failed.length });
  return {
    partition: batch.partitions[0]!.partition,
    ok: failed.length === 0,
    state: run.state,
    ...(failed[0]?.message ? { message: failed[0].message } : {}),
    ...(succeeded > 0 ? { rows } : {}),
    batch: { index, count: results.length, succeededCount: succeeded, failedCount: failed.length, results: resultsAt },
  };
}

export async function summarizeJobRuns(input: SummarizeJobRunsInput, _deps: Deps, log: Log): Promise<JobRunSummary> {
  const succeeded = input.results.filter((r) => r.ok).map((r) => r.partition);
  const failed = input.results.filter((r) => !r.ok);
  log.info('partition runs summarized', { succeeded: succeeded.length, failed: failed.length });
  return { succeeded, failed, succeededCount: succeeded.length, failedCount: failed.length };
}
