// The waits capability's public surface: what other folders import (docs/architecture.md).
export { awaitCrawler, awaitJobRun, awaitPartitionRefresh, completeFromEvent, recheckWait } from './completion';
export type { RecheckQueue, SendOutcome, TaskTokenSender, WaitDeps, WaitRecord, WaitStore } from './ports';
