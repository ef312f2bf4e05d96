// The runs capability's public surface: what other folders import (docs/architecture.md).
export { defaultClaimLimits, partitionsWithinTimeBudget, selectClaimable, timeBudgetSeconds } from './claim-limits';
export type { ClaimLimits } from './claim-limits';
export { decideSettled } from './debounce';
export type {
  Arrival,
  ArrivalLedger,
  ExecutionStarter,
  Lease,
  PendingSummary,
  ReturnClaimOptions,
  RunLeaseStore,
  StartIntent,
} from './ports';
export {
  RUN_LEASE_SECONDS,
  catchUpAll,
  ensureRunActive,
  releaseLeaseOfDeadExecution,
  returnClaimsOfOthers,
  startRunIfNeeded,
} from './protocol';
export type { ExecutionStatusChange } from './protocol';
