/**
 * Named errors. Their `name` is what Step Functions sees as the error type (the Lambda runtime reports
 * `error.name` as errorType), so the ASL Retry/Catch clauses match on these exact strings: keep
 * `RETRYABLE_ERRORS` in step with the definition (a test checks it).
 *
 * Each class spells its name as a string literal. A minifier renames classes (esbuild `minify` turned
 * `ConcurrentRunsExceededError` into `h1`), so `new.target.name` or `constructor.name` would ship two-letter
 * names; a literal survives bundling by construction. tests/unit/errors.test.ts checks literal == identifier.
 */
export abstract class SluiceError extends Error {
  abstract override readonly name: string;
  abstract readonly retryable: boolean;
}

/** Input did not match its schema or the dataset config; `message` names the bad field. Fatal. */
export class InvalidInputError extends SluiceError {
  override readonly name = 'InvalidInputError';
  readonly retryable = false;
}

/** A step produced output that breaks its own schema: a bug in sluice. Fatal. */
export class InvalidOutputError extends SluiceError {
  override readonly name = 'InvalidOutputError';
  readonly retryable = false;
}

/** The configuration file is invalid; `message` names the bad field. Fatal. */
export class ConfigError extends SluiceError {
  override readonly name = 'ConfigError';
  readonly retryable = false;
}

/** The run names a dataset that is not configured for this stage. Fatal. */
export class UnknownDatasetError extends SluiceError {
  override readonly name = 'UnknownDatasetError';
  readonly retryable = false;
}

/** A partition value does not match its key's pattern. Fatal: values reach S3 paths and DDL. */
export class InvalidPartitionError extends SluiceError {
  override readonly name = 'InvalidPartitionError';
  readonly retryable = false;
}

/** The crawl ended FAILED or CANCELLED; `message` carries the crawler's own error message. Fatal. */
export class CrawlerFailedError extends SluiceError {
  override readonly name = 'CrawlerFailedError';
  readonly retryable = false;
}

/** A Glue crawler, job, database or table that the config names does not exist. Fatal. */
export class GlueEntityNotFoundError extends SluiceError {
  override readonly name = 'GlueEntityNotFoundError';
  readonly retryable = false;
}

/** Glue refused a job run because MaxConcurrentRuns is reached. Retried with backoff and jitter. */
export class ConcurrentRunsExceededError extends SluiceError {
  override readonly name = 'ConcurrentRunsExceededError';
  readonly retryable = true;
}

/** An AWS API throttled us or had a transient fault. Retried with backoff and jitter. */
export class AwsThrottledError extends SluiceError {
  override readonly name = 'AwsThrottledError';
  readonly retryable = true;
}

/** An Athena statement ended FAILED or CANCELLED. Fatal. */
export class AthenaQueryFailedError extends SluiceError {
  override readonly name = 'AthenaQueryFailedError';
  readonly retryable = false;
}

/**
 * A job run SUCCEEDED but the row summary it was asked to write (`--sluice_summary_path`) is not there. Fatal, not
 * retried: the job writes it before it returns, and S3 reads are strongly consistent after a write (see
 * domain/rows/job-summary.ts), so waiting cannot make it appear. The partition is reported failed (rows unaccounted).
 */
export class JobSummaryMissingError extends SluiceError {
  override readonly name = 'JobSummaryMissingError';
  readonly retryable = false;
}

/** A job run's row summary is not the JobRowSummary shape, or its counts do not add up. Fatal. */
export class JobSummaryInvalidError extends SluiceError {
  override readonly name = 'JobSummaryInvalidError';
  readonly retryable = false;
}

/** Another execution holds the dataset's run lease. Fatal for the caller. */
export class LeaseHeldError extends SluiceError {
  override readonly name = 'LeaseHeldError';
  readonly retryable = false;
}

export const RETRYABLE_ERRORS = ['AwsThrottledError', 'ConcurrentRunsExceededError'] as const;
export const FATAL_ERRORS = [
  'InvalidInputError',
  'InvalidOutputError',
  'ConfigError',
  'UnknownDatasetError',
  'InvalidPartitionError',
  'CrawlerFailedError',
  'GlueEntityNotFoundError',
  'AthenaQueryFailedError',
  'LeaseHeldError',
  'JobSummaryMissingError',
  'JobSummaryInvalidError',
] as const;

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The message inside a Catch result's `Cause`: Lambda errors reach Step Functions as
 * {"errorType","errorMessage","trace"} JSON; the local interpreter gives the message itself.
 */
export function readCause(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: already a plain message
  }
  return cause;
}
