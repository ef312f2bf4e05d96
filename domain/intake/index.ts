// The intake capability's public surface: what other folders import (docs/architecture.md).
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
