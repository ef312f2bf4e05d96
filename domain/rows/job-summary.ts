/**
 * Row counts of a partition job run. Glue's own run record has none, so the job writes them: the start step gives
 * each run a summary location (`--sluice_summary_path`, derived from the run key), the Glue script writes a
 * JobRowSummary there as its last act before it succeeds (adapters/aws/glue/convert_partition.py
 * write_job_summary; the local engine does the same, adapters/local/glue.ts), and the step that sees the run
 * SUCCEEDED reads it. The location travels in the run's own arguments (GetJobRun returns them), so whoever checks
 * the run (a poll or a completion event) finds it without state of its own.
 *
 * Where: the stage's artifacts bucket under `job-summaries/<dataset>/<run key>.json`. The artifacts bucket holds
 * what runs write for themselves and is never crawled or queried (a summary in the curated bucket would sit under
 * a table's Location or need crawler exclusions); one fixed prefix keeps the IAM grants exact (the Glue role may
 * put, the check step may get, only there). The run key is one per (execution, partition), so a retry, a redrive or
 * an attach to an earlier run of the same key reads and writes the same object.
 *
 * A SUCCEEDED run whose summary is missing is an error, not "no rows": S3 has strong read-after-write consistency
 * for every GET, PUT and LIST since December 2020 ("After a successful write of a new object, or an overwrite ...
 * any subsequent read request immediately receives the latest version of the object",
 * https://aws.amazon.com/s3/consistency/; https://aws.amazon.com/blogs/aws/amazon-s3-update-strong-read-after-write-consistency/),
 * and Glue reports SUCCEEDED only after the script returned, which is after its PutObject returned. So waiting
 * cannot make a missing summary appear: JobSummaryMissingError is fatal (the partition is reported failed, and
 * the rerun input names it). S3's own transient faults (SlowDown, 5xx) are AwsThrottledError and retried.
 */
import type { JobBatch, JobBatchResult, JobRowCounts, JobRowSummary } from '../../schemas/types.generated';
import {
  parseS3Uri,
  s3Uri,
  type ArtifactStore,
  type ObjectLocation,
  ConfigError,
  JobSummaryInvalidError,
  JobSummaryMissingError,
  type JobRunInfo,
  type Log,
  validate,
} from '../common';

export const SUMMARY_ARGUMENT = '--sluice_summary_path';
/** The only prefix job summaries live under (IAM grants are scoped to it). */
export const JOB_SUMMARY_PREFIX = 'job-summaries/';

export function jobSummaryLocation(bucket: string, dataset: string, runKey: string): ObjectLocation {
  return { bucket, key: `${JOB_SUMMARY_PREFIX}${dataset}/${runKey}.json` };
}

/** The job argument that asks a run for its summary. */
export function summaryArgument(location: ObjectLocation): Record<string, string> {
  return { [SUMMARY_ARGUMENT]: s3Uri(location) };
}

/** Parses and checks one summary object; `runId`: the run being checked (a summary of another run is refused). */
export function parseJobSummary(text: string, where: string, runId?: string): JobRowCounts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new JobSummaryInvalidError(`job summary ${where} is not JSON: ${(error as Error).message}`);
  }
  const summary = validate<JobRowSummary>('JobRowSummary', parsed, `job summary ${where}`, JobSummaryInvalidError);
  if (summary.rowsOut + summary.rowsBad !== summary.rowsIn)
    throw new JobSummaryInvalidError(
      `job summary ${where} does not add up: ${summary.rowsOut} out + ${summary.rowsBad} bad != ${summary.rowsIn} in`,
    );
  if (runId !== undefined && summary.jobRunId !== undefined && summary.jobRunId !== runId)
    throw new JobSummaryInvalidError(
      `job summary ${where} was written by job run ${summary.jobRunId}, not by ${runId}`,
    );
  return { in: summary.rowsIn, out: summary.rowsOut, bad: summary.rowsBad };
}

/**
 * The rows of a SUCCEEDED run: undefined when the run was not asked for a summary (started without
 * `--sluice_summary_path`, e.g. by a stage without an artifacts store); otherwise the summary's counts, or a
 * JobSummaryMissingError / JobSummaryInvalidError. Never a made-up zero.
 */
export async function readJobRows(
  run: JobRunInfo,
  artifacts: ArtifactStore | undefined,
  log: Log,
): Promise<JobRowCounts | undefined> {
  const uri = run.arguments[SUMMARY_ARGUMENT];
  if (uri === undefined) {
    log.info('job run has no row summary location; no row metrics for it', { runId: run.id });
    return undefined;
  }
  const location = parseS3Uri(uri, `job run ${run.id} ${SUMMARY_ARGUMENT}`);
  if (!artifacts) throw new ConfigError(`no artifacts store to read the row summary ${uri} of job run ${run.id}`);
  const text = await artifacts.get(location);
  if (text === null)
    throw new JobSummaryMissingError(
      `job run ${run.id} SUCCEEDED but wrote no row summary at ${uri} (the Glue script writes it before it ends)`,
    );
  return parseJobSummary(text, uri, run.id);
}

/** The summary a run writes (the Glue script builds the same object in Python: job_summary). */
export function jobRowSummary(run: {
  jobRunId?: string;
  runKey: string;
  dataset: string;
  rowsIn: number;
  rowsBad: number;
  rejectsPath: string | null;
}): JobRowSummary {
  return {
    version: 1,
    ...(run.jobRunId !== undefined ? { jobRunId: run.jobRunId } : {}),
    runKey: run.runKey,
    dataset: run.dataset,
    rowsIn: run.rowsIn,
    rowsOut: run.rowsIn - run.rowsBad,
    rowsBad: run.rowsBad,
    rejectsPath: run.rejectsPath,
  };
}

/**
 * Parses a batch run's JobBatchResult and holds it to its batch: exactly one result per partition of the batch, under
 * the partition's run key, each success with a summary that adds up and names this run. Anything else is a
 * JobSummaryInvalidError (fatal: waiting does not change an object already written).
 */
export function parseJobBatchResult(text: string, where: string, batch: JobBatch, runId?: string): JobBatchResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new JobSummaryInvalidError(`batch result ${where} is not JSON: ${(error as Error).message}`);
  }
  const result = validate<JobBatchResult>('JobBatchResult', parsed, `batch result ${where}`, JobSummaryInvalidError);
  if (result.batchKey !== batch.batchKey)
    throw new JobSummaryInvalidError(`batch result ${where} is of batch ${result.batchKey}, not ${batch.batchKey}`);
  if (runId !== undefined && result.jobRunId !== undefined && result.jobRunId !== runId)
    throw new JobSummaryInvalidError(
      `batch result ${where} was written by job run ${result.jobRunId}, not by ${runId}`,
    );
  const expected = batch.partitions.map((p) => p.runKey);
  const got = result.partitions.map((p) => p.runKey);
  if (JSON.stringify([...expected].sort()) !== JSON.stringify([...got].sort()))
    throw new JobSummaryInvalidError(
      `batch result ${where} lists ${got.length} partitions, not the batch's ${expected.length} (run keys differ)`,
    );
  for (const partition of result.partitions) {
    if (partition.ok && !partition.summary)
      throw new JobSummaryInvalidError(
        `batch result ${where}: partition ${partition.runKey} succeeded without a summary`,
      );
    if (partition.summary) parseJobSummary(JSON.stringify(partition.summary), `${where} (${partition.runKey})`, runId);
  }
  return result;
}
