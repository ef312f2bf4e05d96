// Task-token waits: record the token, complete it once from the service's event, re-check as a fallback.
// This file is the folder's public surface: other folders import only what it exports (docs/architecture.md).
export { awaitCrawler, awaitJobRun, awaitPartitionRefresh, completeFromEvent, recheckWait } from './completion';
export type { RecheckQueue, SendOutcome, TaskTokenSender, WaitDeps, WaitRecord, WaitStore } from './ports';
