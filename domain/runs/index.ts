// The run protocol (docs/protocol.md): one run per dataset under a lease, claims of pending arrivals, the
// debounce decision and the claim limits.
// This file is the folder's public surface: other folders import only what it exports (docs/architecture.md).
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
