// Object events in: parse and resolve keys, record each arrival once, start a run when one is needed, and
// replay dead letters.
// This file is the folder's public surface: other folders import only what it exports (docs/architecture.md).
export type { IntakeOutcome } from './arrival';
export { RECORD_CHUNK, acceptBatch, eventId } from './batch';
export type {
  ArrivalBatchStore,
  BatchDeps,
  BatchOutcome,
  BatchResponse,
  ObjectEvent,
  PoisonSink,
  RecordOutcome,
  SqsBatch,
  SqsRecord,
} from './batch';
export { replayDeadLetters } from './dead-letters';
export type { DeadLetter, DeadLetterQueue } from './dead-letters';
export { arrivalMetrics } from './metrics';
