/**
 * The ports every capability may use: the clock, the log, and the AWS services the steps drive (S3, Glue crawlers
 * and jobs, Athena, SNS). AWS adapters (adapters/aws) and local stand-ins (adapters/local) implement them; cores
 * never create clients. A capability's own ports live next to it (runs/ports.ts, waits/ports.ts, ...), and
 * domain/deps.ts composes them all for the handlers.
 */

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
  /**
   * Optional indexed look-up: the runs started with this `--sluice_partition` argument, newest first. The local
   * job store has it (O(runs of that partition)); Glue has no such query, so the AWS adapter leaves it out and
   * the start step lists recent runs instead.
   */
  listJobRunsOfPartition?(jobName: string, partitionArgument: string): Promise<JobRunInfo[]>;
}

/** What S3 HeadObject says about a key of a bucket (the intake resolves ambiguous key encodings with it). */
export interface ObjectStorePort {
  /** 'exists' or 'missing'; other failures (throttling, access) throw, so the event is retried. */
  headObject(bucket: string, key: string): Promise<'exists' | 'missing'>;
  /**
   * The bytes of every object under a prefix (S3 ListObjectsV2, paginated). Batch planning sizes partitions with
   * it (issue 23); absent, a plan has no sizes and "auto" runs one partition per job run.
   */
  prefixBytes?(bucket: string, prefix: string): Promise<number>;
}

export type QueryStateName = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface QueryPort {
  /** Same clientRequestToken, same query: Athena returns the existing execution instead of starting another. */
  startQuery(query: { sql: string; database: string; workgroup: string; clientRequestToken: string }): Promise<string>;
  getQuery(queryExecutionId: string): Promise<{ state: QueryStateName; reason?: string }>;
}

export interface Notification {
  subject: string;
  message: string;
  attributes: Record<string, string>;
  /**
   * Publishes with the same id within the topic's deduplication window deliver one message (issue 21, defect 8):
   * the notify step passes its execution, so a retry after a publish whose answer was lost delivers nothing new.
   */
  deduplicationId?: string;
  /** What the notification is about (the dataset): its ordering group on a FIFO topic. */
  group?: string;
}

export interface NotifierPort {
  publish(notification: Notification): Promise<string>;
}
