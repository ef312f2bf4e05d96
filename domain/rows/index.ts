// Rows: the one cast contract both engines follow, and the row summary a job run writes.
// This file is the folder's public surface: other folders import only what it exports (docs/architecture.md).
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
