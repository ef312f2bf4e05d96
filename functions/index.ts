/** Every step Lambda by id: the local runtime and the state-machine tests wire ASL Task states through this. */
import { step as prepareRun } from './prepare-run';
import { step as claimArrivals } from './claim-arrivals';
import { step as checkSchemas } from './check-schemas';
import { step as checkCrawledSchema } from './check-crawled-schema';
import { step as startCrawler } from './start-crawler';
import { step as checkCrawler } from './check-crawler';
import { step as planJobRuns } from './plan-job-runs';
import { step as startJobRun } from './start-job-run';
import { step as checkJobRun } from './check-job-run';
import { step as summarizeJobRuns } from './summarize-job-runs';
import { step as startPartitionRefresh } from './start-partition-refresh';
import { step as checkPartitionRefresh } from './check-partition-refresh';
import { step as notifyFailure } from './notify-failure';
import { step as releaseLease } from './release-lease';

export const STEPS = {
  prepareRun,
  claimArrivals,
  checkSchemas,
  startCrawler,
  checkCrawler,
  checkCrawledSchema,
  planJobRuns,
  startJobRun,
  checkJobRun,
  summarizeJobRuns,
  startPartitionRefresh,
  checkPartitionRefresh,
  notifyFailure,
  releaseLease,
} as const;
export type StepId = keyof typeof STEPS;
export const STEP_FILES: Record<StepId, string> = {
  prepareRun: 'functions/prepare-run.handler',
  claimArrivals: 'functions/claim-arrivals.handler',
  checkSchemas: 'functions/check-schemas.handler',
  startCrawler: 'functions/start-crawler.handler',
  checkCrawler: 'functions/check-crawler.handler',
  checkCrawledSchema: 'functions/check-crawled-schema.handler',
  planJobRuns: 'functions/plan-job-runs.handler',
  startJobRun: 'functions/start-job-run.handler',
  checkJobRun: 'functions/check-job-run.handler',
  summarizeJobRuns: 'functions/summarize-job-runs.handler',
  startPartitionRefresh: 'functions/start-partition-refresh.handler',
  checkPartitionRefresh: 'functions/check-partition-refresh.handler',
  notifyFailure: 'functions/notify-failure.handler',
  releaseLease: 'functions/release-lease.handler',
};

/**
 * The await steps (issue 13), invoked by the `.waitForTaskToken` Tasks through
 * `arn:aws:states:::lambda:invoke.waitForTaskToken` with the task token in the Payload (adapters/lambda/wait-handler,
 * not the plain step recipe: they also get the wait ports). The ASL names them in Parameters.FunctionName.
 */
export const AWAIT_STEP_FILES = {
  awaitJobRun: 'functions/await-job-run.handler',
  awaitCrawler: 'functions/await-crawler.handler',
  awaitPartitionRefresh: 'functions/await-partition-refresh.handler',
} as const;
