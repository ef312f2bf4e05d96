// Run inputs: manual requests, partition ranges, manifests, the re-run and succeeded lists.
// This file is the folder's public surface: other folders import only what it exports (docs/architecture.md).
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
