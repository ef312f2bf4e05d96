// The rows capability's public surface: what other folders import (docs/architecture.md).
export {
  badValueReason,
  columnSql,
  csvHeaderNames,
  duckdb,
  duckdbPartitionType,
  duckdbType,
  glueContractArguments,
  inputColumn,
  missingColumnPolicyOf,
  missingColumnReason,
  parseTargetType,
  partitionColumnType,
  readOptionsOf,
} from './cast-contract';
export type { MissingColumnPolicy, ReadOptions } from './cast-contract';
export {
  JOB_SUMMARY_PREFIX,
  SUMMARY_ARGUMENT,
  jobRowSummary,
  jobSummaryLocation,
  parseJobBatchResult,
  parseJobSummary,
  readJobRows,
  summaryArgument,
} from './job-summary';
