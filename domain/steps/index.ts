// The steps capability's public surface: what other folders import (docs/architecture.md).
export { checkPartitionRefresh, queryFinished, startPartitionRefresh, waveFinished } from './athena';
export { checkCrawler, startCrawler } from './crawler';
export { checkCrawledSchema, checkSchemas, schemaDriftNotes } from './drift';
export { BATCH_ARGUMENT, checkJobRun, startJobRun } from './jobs';
export { notifyFailure, snsSubject } from './notify';
export { planJobRuns } from './plan';
export { claimArrivals, prepareRun, releaseLease } from './run';
export { summarizeRun } from './summary';
export { handleTimedOut } from './timed-out';
