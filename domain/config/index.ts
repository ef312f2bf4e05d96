// A stage's config, validated once: datasets, partition layouts, polling policies, execution names.
// This file is the folder's public surface: other folders import only what it exports (docs/architecture.md).
export {
  DEFAULT_MAX_CLAIM_PARTITIONS,
  REJECTED_FOLDER,
  assertNameWithin,
  datasetNamed,
  loadConfigFile,
} from './config';
export type { ResolvedConfig, ResolvedDataset } from './config';
export { executionNameFor } from './execution-names';
export {
  assertPartition,
  parseRawKey,
  partitionFromKey,
  partitionKey,
  rawPartitionPrefix,
  targetPartitionPrefix,
} from './partitions';
export type { ParsedKey } from './partitions';
export {
  MAX_RECHECK_DELAY_SECONDS,
  nextPollSeconds,
  pollsForDuration,
  recheckDelaySeconds,
  secondsBetween,
} from './polling';
