// Schema drift: fingerprints of raw files' schemas, and the classification that decides whether to crawl.
// This file is the folder's public surface: other folders import only what it exports (docs/architecture.md).
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
