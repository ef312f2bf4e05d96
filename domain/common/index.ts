// What every capability shares: typed errors, schema validation, run artifacts by reference, failure
// messages, and the ports of the clock, the log and the AWS services the steps drive.
// This file is the folder's public surface: other folders import only what it exports (docs/architecture.md).
export { executionPrefix, parseS3Uri, runArtifacts, s3Uri } from './artifacts';
export type { ArtifactStore, ObjectLocation } from './artifacts';
export {
  AthenaQueryFailedError,
  AwsThrottledError,
  ConcurrentRunsExceededError,
  ConfigError,
  CrawlerFailedError,
  GlueEntityNotFoundError,
  InvalidInputError,
  InvalidOutputError,
  InvalidPartitionError,
  JobSummaryInvalidError,
  JobSummaryMissingError,
  LeaseHeldError,
  SluiceError,
  UnknownDatasetError,
  errorMessage,
  readCause,
} from './errors';
export { failureMessage } from './failure-message';
export { FINISHED_JOB_STATES } from './ports';
export type {
  Clock,
  CrawlerPort,
  CrawlerStatus,
  JobPort,
  JobRunInfo,
  JobRunStateName,
  Log,
  Notification,
  NotifierPort,
  ObjectStorePort,
  QueryPort,
  QueryStateName,
} from './ports';
export {
  SCHEMA_NAMES,
  describeErrors,
  installValidators,
  standaloneSource,
  validate,
  validatorFor,
  validatorsFingerprint,
} from './validation';
export type { SchemaName } from './validation';
