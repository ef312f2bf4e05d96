// The drift capability's public surface: what other folders import (docs/architecture.md).
export {
  UnreadableSchemaError,
  catalogColumnType,
  classifyDrift,
  crawlerDecision,
  fingerprintOf,
  isHiddenFile,
  rawTableName,
  readFileSchema,
} from './schema-drift';
export type {
  Drift,
  DriftPort,
  FileSchema,
  FingerprintRecord,
  FingerprintStore,
  RawColumn,
  ReadRange,
} from './schema-drift';
