/**
 * Reads a Distributed Map run's results from what ResultWriter exported, instead of from the state payload.
 *
 * AWS's layout (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html): the Map
 * state's output is {MapRunArn, ResultWriterDetails: {Bucket, Key}}, Key being `<Prefix>/<map run id>/manifest.json`;
 * the manifest lists result files per status, `ResultFiles: {SUCCEEDED: [{Key, Size}], FAILED: [...], PENDING: [...]}`,
 * each file a JSON array (or JSON Lines with WriterConfig OutputType JSONL) of child execution records with
 * ExecutionArn, Input and Output as JSON text, Status, and Error/Cause for a failed child. A real capture of this
 * shape: department-for-transport-BODS/bods-backend (map results models and their manifest test).
 *
 * Children here catch their own errors and return {ok:false,...}, so a failed partition usually sits in a
 * SUCCEEDED file; a child that failed as an execution (FAILED) or never ran (PENDING, when the Map Run stopped)
 * counts as failed too: it was not processed, and it belongs to the re-run.
 */
import type {
  JobRunResult,
  MapResultManifest,
  MapResultRecord,
  MapRunSummary,
  PartitionOutcome,
  PartitionValues,
  SummarizeMapRunInput,
} from '../../schemas/types.generated';
import {
  s3Uri,
  type ArtifactStore,
  type ObjectLocation,
  InvalidOutputError,
  readCause,
  failureMessage,
  validate,
} from '../common';
import { writeRerunManifest, writeSucceededList } from '../inputs';
import { readJobBatch } from './jobs';

/** Failures the summary (and so the notification) lists; the rest are in the failed-partitions object. */
export const LISTED_FAILURES = 50;
const MESSAGE_LIMIT = 200;

const RESULT_STATUSES = ['SUCCEEDED', 'FAILED', 'PENDING'] as const;

/** A partition's message keeps its file and line whole; only the cause is clipped (issue 25). */
const clip = (text: string): string => failureMessage(text, MESSAGE_LIMIT);

function parseJson<T>(text: string | undefined, what: string): T {
  try {
    return JSON.parse(text ?? '') as T;
  } catch (error) {
    throw new InvalidOutputError(`${what} is not JSON: ${(error as Error).message}`);
  }
}

/** A result file is a JSON array, or JSON Lines when the writer was configured so. */
export function parseResultFile(text: string, where: string): MapResultRecord[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) return parseJson<MapResultRecord[]>(trimmed, `result file ${where}`);
  return trimmed
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => parseJson<MapResultRecord>(line, `result file ${where} line ${i + 1}`));
}

/** One child's outcome: the partition from its Input, the result from its Output or its Error/Cause. */
export function outcomeOf(record: MapResultRecord, where: string): JobRunResult {
  const input = parseJson<{ partition?: PartitionValues }>(record.Input, `Input of ${record.ExecutionArn} in ${where}`);
  if (!input.partition || typeof input.partition !== 'object')
    throw new InvalidOutputError(`child ${record.ExecutionArn} in ${where} has no partition in its Input`);
  const partition = input.partition;
  if (record.Status === 'SUCCEEDED') {
    const output = parseJson<PartitionOutcome>(record.Output, `Output of ${record.ExecutionArn} in ${where}`);
    if (typeof output?.ok !== 'boolean' || typeof output.state !== 'string')
      throw new InvalidOutputError(`child ${record.ExecutionArn} in ${where} returned no {ok, state}`);
    const result: JobRunResult = { partition, ok: output.ok, state: output.state };
    if (!output.ok) result.message = clip(output.message ?? `job run ended ${output.state}`);
    return result;
  }
  if (record.Status === 'PENDING' || record.Status === 'RUNNING')
    return { partition, ok: false, state: 'NOT_RUN', message: 'the Map Run ended before this partition ran' };
  const message = [record.Error, readCause(record.Cause)].filter(Boolean).join(': ');
  return { partition, ok: false, state: record.Status, message: clip(message || `child execution ${record.Status}`) };
}

export interface MapRunTally {
  succeeded: PartitionValues[];
  failed: JobRunResult[];
}

/**
 * A batch child's partitions, one result each (docs/batches.md): a child that returned its batch's result has
 * them in the results object its check step wrote; any other (the job run could not be started or checked, the
 * child failed or never ran) failed as a whole, so each partition of its batch file fails with its message.
 */
async function batchOutcomes(
  record: MapResultRecord,
  index: number,
  executionArn: string,
  store: ArtifactStore,
  where: string,
): Promise<JobRunResult[]> {
  const whole = outcomeOf(record, where);
  if (record.Status === 'SUCCEEDED') {
    const output = parseJson<PartitionOutcome & Pick<JobRunResult, 'batch'>>(
      record.Output,
      `Output of ${record.ExecutionArn} in ${where}`,
    );
    if (output.batch) {
      const at = output.batch.results;
      const text = await store.get(at);
      if (text === null)
        throw new InvalidOutputError(`batch results ${s3Uri(at)} of child ${record.ExecutionArn} do not exist`);
      const results = parseJson<JobRunResult[]>(text, `batch results ${s3Uri(at)}`);
      if (!Array.isArray(results) || results.length !== output.batch.count)
        throw new InvalidOutputError(
          `batch results ${s3Uri(at)} do not hold the batch's ${output.batch.count} partitions`,
        );
      return results;
    }
  }
  const { batch } = await readJobBatch(store, executionArn, index);
  return batch.partitions.map((p) => ({
    partition: p.partition,
    ok: false,
    state: whole.state,
    message: whole.message ?? `job run ended ${whole.state}`,
  }));
}

const batchIndexOf = (record: MapResultRecord): number | undefined => {
  const input = JSON.parse(record.Input) as { batch?: { index?: unknown } };
  return typeof input.batch?.index === 'number' ? input.batch.index : undefined;
};

/**
 * Every partition of the Map Run, read from the result files the manifest lists: a child of one partition is
 * that partition's result; a batch child (its Input names a batch index) gives each of its partitions' results.
 */
export async function readMapRun(
  store: ArtifactStore,
  manifestAt: ObjectLocation,
  executionArn?: string,
): Promise<MapRunTally> {
  const where = s3Uri(manifestAt);
  const text = await store.get(manifestAt);
  if (text === null) throw new InvalidOutputError(`ResultWriter manifest ${where} does not exist`);
  const manifest = validate<MapResultManifest>(
    'MapResultManifest',
    parseJson(text, `ResultWriter manifest ${where}`),
    `ResultWriter manifest ${where}`,
    InvalidOutputError,
  );
  const tally: MapRunTally = { succeeded: [], failed: [] };
  for (const status of RESULT_STATUSES) {
    for (const file of manifest.ResultFiles[status] ?? []) {
      const location = { bucket: manifest.DestinationBucket, key: file.Key };
      const body = await store.get(location);
      if (body === null)
        throw new InvalidOutputError(`result file ${s3Uri(location)} listed in ${where} does not exist`);
      for (const record of parseResultFile(body, s3Uri(location))) {
        const index = batchIndexOf(record);
        if (index !== undefined && executionArn === undefined)
          throw new InvalidOutputError(`child ${record.ExecutionArn} ran a batch: its execution is needed to read it`);
        const outcomes =
          index === undefined
            ? [outcomeOf(record, s3Uri(location))]
            : await batchOutcomes(record, index, executionArn!, store, s3Uri(location));
        for (const outcome of outcomes) {
          if (outcome.ok) tally.succeeded.push(outcome.partition);
          else tally.failed.push(outcome);
        }
      }
    }
  }
  return tally;
}

/**
 * The summary step: counts, the first failures, and the full lists as objects (succeeded for the Athena
 * registration, failed as a manifest that a manual run accepts, with the input to paste). Small at any size.
 */
export async function summarizeMapRun(
  input: SummarizeMapRunInput,
  store: ArtifactStore,
  listed = LISTED_FAILURES,
): Promise<MapRunSummary> {
  const manifestAt = { bucket: input.mapRun.ResultWriterDetails.Bucket, key: input.mapRun.ResultWriterDetails.Key };
  const { succeeded, failed: jobFailed } = await readMapRun(store, manifestAt, input.executionArn);
  // Partitions failed before any job run (breaking schema drift, issue 24) count as failed like any other.
  const pre = input.preJobFailures;
  const failed = [...(pre && pre.count !== 0 ? await readPreJobFailures(store, pre) : []), ...jobFailed];
  const succeededRef = succeeded.length > 0 ? await writeSucceededList(store, input.executionArn, succeeded) : null;
  const rerun =
    failed.length > 0
      ? await writeRerunManifest(
          store,
          input.dataset,
          input.executionArn,
          failed.map((f) => f.partition),
          input.skipCrawler ?? false,
        )
      : null;
  return {
    total: succeeded.length + failed.length,
    succeededCount: succeeded.length,
    failedCount: failed.length,
    firstFailures: failed.slice(0, listed),
    resultsManifest: s3Uri(manifestAt),
    succeeded: succeededRef,
    failed: rerun?.failed ?? null,
    rerunInput: rerun?.rerunInput ?? null,
  };
}

/**
 * Partitions that failed before any job run (the drift step's breaking changes): a JSON array of JobRunResult,
 * each counted as a failed partition, exactly as one whose job failed (re-run input, notification, metrics).
 */
export async function readPreJobFailures(store: ArtifactStore, at: ObjectLocation): Promise<JobRunResult[]> {
  const where = s3Uri(at);
  const text = await store.get(at);
  if (text === null) throw new InvalidOutputError(`pre-job failures ${where} do not exist`);
  const list = parseJson<unknown>(text, `pre-job failures ${where}`);
  if (!Array.isArray(list)) throw new InvalidOutputError(`pre-job failures ${where} is not a JSON array`);
  return list.map((item, i) => {
    const r = item as Partial<JobRunResult>;
    if (!r || typeof r !== 'object' || !r.partition || typeof r.partition !== 'object' || r.ok !== false)
      throw new InvalidOutputError(
        `pre-job failures ${where} /${i}: not a failed partition result {partition, ok: false, state}`,
      );
    return {
      partition: r.partition,
      ok: false,
      state: String(r.state ?? 'FAILED'),
      message: clip(r.message ?? `failed ${r.state ?? ''}`.trim()),
    };
  });
}

/**
 * The run-results part of a failure notification: counts, the first failures (one line each, messages already
 * clipped to 200 characters), where the full lists are, and the input that re-runs exactly the failed partitions.
 * Bounded whatever the run's size: at most `LISTED_FAILURES` lines.
 */
export function failureDigest(summary: MapRunSummary): string[] {
  const lines = [`Partitions: ${summary.failedCount} of ${summary.total} failed, ${summary.succeededCount} succeeded`];
  if (summary.firstFailures.length > 0) {
    lines.push('', `First ${summary.firstFailures.length} failures:`);
    for (const f of summary.firstFailures)
      lines.push(`  ${JSON.stringify(f.partition)}  ${f.state}${f.message ? `: ${f.message}` : ''}`);
    if (summary.failedCount > summary.firstFailures.length)
      lines.push(`  ... and ${summary.failedCount - summary.firstFailures.length} more`);
  }
  lines.push('', `All results (ResultWriter manifest): ${summary.resultsManifest}`);
  if (summary.failed) lines.push(`All failed partitions: s3://${summary.failed.bucket}/${summary.failed.key}`);
  if (summary.rerunInput)
    lines.push(
      '',
      'To re-run only the failed partitions, start an execution with:',
      JSON.stringify(summary.rerunInput),
    );
  return lines;
}
