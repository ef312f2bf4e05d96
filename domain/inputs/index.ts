// The inputs capability's public surface: what other folders import (docs/architecture.md).
export { MAX_RANGE_PARTITIONS, expandRange } from './partition-range';
export {
  MANIFEST_FOLDER,
  artifactsOf,
  manualPartitions,
  readPartitionList,
  validateRunRequest,
  writePartitionList,
  writeRerunManifest,
  writeSucceededList,
} from './run-inputs';
