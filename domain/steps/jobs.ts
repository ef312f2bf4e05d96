import { createHash } from 'node:crypto';
import type {
  CheckJobRunInput,
  JobRunResult,
  JobRunState,
  JobRunSummary,
  StartJobRunInput,
  SummarizeJobRunsInput,
} from '../../schemas/types.generated';
import type { ObjectLocation } from '../artifacts';
import { glueContractArguments } from '../cast-contract';
import { datasetNamed, type ResolvedDataset } from '../config';
import { ConcurrentRunsExceededError } from '../errors';
import { failureMessage } from '../failure-message';
import { jobSummaryLocation, readJobRows, summaryArgument } from '../job-summary';
import { jobRowMetrics } from '../metrics';
import { assertPartition, partitionKey, rawPartitionPrefix, targetPartitionPrefix } from '../partitions';
import { nextPollSeconds, secondsBetween } from '../polling';
import { FINISHED_JOB_STATES, type Deps, type JobRunInfo, type Log } from '../ports';
import type { PartitionValues } from '../../schemas/types.generated';

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
 * A finished run as a result; a SUCCEEDED one carries the rows its summary reports (domain/job-summary.ts) and records
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
    // The file (and line) the job names first, only the cause clipped (issue 25; domain/failure-message.ts).
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
    const result = await finishedResult(input.partition, run, { ...input, dataset: dataset.name }, deps, log);
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

export async function summarizeJobRuns(input: SummarizeJobRunsInput, _deps: Deps, log: Log): Promise<JobRunSummary> {
  const succeeded = input.results.filter((r) => r.ok).map((r) => r.partition);
  const failed = input.results.filter((r) => !r.ok);
  log.info('partition runs summarized', { succeeded: succeeded.length, failed: failed.length });
  return { succeeded, failed, succeededCount: succeeded.length, failedCount: failed.length };
}
