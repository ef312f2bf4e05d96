/**
 * Ports: the small interfaces the step cores talk through. AWS adapters (adapters/aws) and local stand-ins
 * (adapters/local) implement them; cores never create clients.
 */
import type { ExecutionInput, PartitionValues } from '../schemas/types.generated';
import type { ResolvedConfig } from './config';

export interface Clock {
  now(): Date;
}

/** The subset of the Powertools Logger that cores use; every line already carries dataset/partition/execution. */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export type CrawlOutcome = 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface CrawlerStatus {
  state: 'READY' | 'RUNNING' | 'STOPPING';
  /** Start of the crawl in progress (RUNNING/STOPPING only). */
  currentCrawlStartedAt?: string;
  lastCrawl?: { status: CrawlOutcome; startedAt: string; errorMessage?: string };
}

export interface CrawlerPort {
  /** 'already-running' when Glue answers CrawlerRunningException. */
  startCrawler(name: string): Promise<'started' | 'already-running'>;
  getCrawlerStatus(name: string): Promise<CrawlerStatus>;
}

export const FINISHED_JOB_STATES = ['SUCCEEDED', 'FAILED', 'TIMEOUT', 'STOPPED', 'ERROR', 'EXPIRED'] as const;
export type JobRunStateName = 'STARTING' | 'RUNNING' | 'STOPPING' | 'WAITING' | (typeof FINISHED_JOB_STATES)[number];

export interface JobRunInfo {
  id: string;
  state: JobRunStateName;
  startedAt?: string;
  errorMessage?: string;
  arguments: Record<string, string>;
}

export interface JobPort {
  startJobRun(jobName: string, args: Record<string, string>): Promise<string>;
  getJobRun(jobName: string, runId: string): Promise<JobRunInfo>;
  /** Newest first, at most `limit` runs (bounded look-up used to find a run by its run key). */
  listRecentJobRuns(jobName: string, limit: number): Promise<JobRunInfo[]>;
}

export type QueryStateName = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface QueryPort {
  /** Same clientRequestToken, same query: Athena returns the existing execution instead of starting another. */
  startQuery(query: { sql: string; database: string; workgroup: string; clientRequestToken: string }): Promise<string>;
  getQuery(queryExecutionId: string): Promise<{ state: QueryStateName; reason?: string }>;
}

export interface NotifierPort {
  publish(notification: { subject: string; message: string; attributes: Record<string, string> }): Promise<string>;
}

export interface Arrival {
  dataset: string;
  partitionKey: string;
  objectKey: string;
  /** S3's per-key sequencer: key + sequencer identifies one object event, whatever the delivery count. */
  sequencer: string;
  size: number;
  arrivedAt: string;
}

export interface PendingSummary {
  partitions: number;
  firstArrivalAt: string;
  lastArrivalAt: string;
}

/** The debounce store: pending partitions per dataset, claimed atomically by one execution. */
export interface ArrivalLedger {
  /** Records one object event; `duplicate` when this key + sequencer was recorded before. */
  recordArrival(arrival: Arrival): Promise<{ duplicate: boolean }>;
  pendingSummary(dataset: string): Promise<PendingSummary | null>;
  /**
   * Moves every pending partition of the dataset into the claim of `executionArn` and returns their keys.
   * An arrival recorded before the claim is in it; one recorded after stays pending for the next run.
   */
  claimPending(dataset: string, executionArn: string, now: Date): Promise<string[]>;
  /**
   * Puts an execution's claim back to pending and forgets it. Called with the claim of an execution that died
   * (aborted, timed out) so its partitions are not lost; a run that ended through its own last step has
   * nothing to give back (its claim was processed or named in its failure notification).
   */
  returnClaim(dataset: string, executionArn: string): Promise<string[]>;
  /** Forgets the record of a claim that its run has dealt with. */
  forgetClaim(dataset: string, executionArn: string): Promise<void>;
}

export interface Lease {
  owner: string;
  expiresAt: string;
}

/** One run per dataset: a lease with an owner and an expiry that is checked inside the conditional write. */
export interface RunLeaseStore {
  /** Takes the lease if it is free, expired, or already `owner`'s (then extends it). */
  acquire(dataset: string, owner: string, now: Date, leaseSeconds: number): Promise<boolean>;
  /** Releases only if `owner` holds it. */
  release(dataset: string, owner: string): Promise<boolean>;
  current(dataset: string): Promise<Lease | null>;
}

export interface ExecutionStarter {
  /** Names the execution so its ARN is known before it starts (the lease owner). */
  executionArnFor(name: string): string;
  startExecution(name: string, input: ExecutionInput): Promise<string>;
}

export interface Deps {
  config: ResolvedConfig;
  clock: Clock;
  crawlers: CrawlerPort;
  jobs: JobPort;
  queries: QueryPort;
  notifier: NotifierPort;
  arrivals: ArrivalLedger;
  leases: RunLeaseStore;
  executions: ExecutionStarter;
  /** For console links in notifications. */
  consoleUrl(executionArn: string): string;
}

export type { PartitionValues };
