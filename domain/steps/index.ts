// One core per state of the state machine (each wrapped by a handler in functions/), the Map's result
// reader, and the recovery of a run that timed out.
// This file is the folder's public surface: other folders import only what it exports (docs/architecture.md).
export { checkPartitionRefresh, queryFinished, startPartitionRefresh, waveFinished } from './athena';
export { checkCrawler, startCrawler } from './crawler';
export { checkCrawledSchema, checkSchemas, schemaDriftNotes } from './drift';
export { BATCH_ARGUMENT, checkJobRun, startJobRun } from './jobs';
export { notifyFailure, snsSubject } from './notify';
export { planJobRuns } from './plan';
export { claimArrivals, prepareRun, releaseLease } from './run';
export { summarizeRun } from './summary';
export { handleTimedOut } from './timed-out';
