/**
 * Ports: the small interfaces the step cores talk through. AWS adapters (adapters/aws) and local stand-ins
 * (adapters/local) implement them; cores never create clients.
 */
import type { ExecutionInput, PartitionValues, RunCostReport } from '../schemas/types.generated';
import type { ArtifactStore } from './artifacts';
import type { ClaimLimits } from './claim-limits';
import type { ResolvedConfig } from './config';
import type { MetricPoint } from './metrics';
import type { DriftPort } from './schema-drift';

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

/**
 * The debounce store: pending partitions per dataset, and the claims of the runs working on them.
 *
 * A claim belongs to one execution and is findable by dataset (no pointer from the lease is needed). Only the
 * holder of the dataset's run lease claims, or returns someone else's claim; a claim lives until its owner's last
 * step forgets it (processed or named in a notification) or a later lease holder returns it to pending. Claims
 * never expire on their own.
 */
export interface ArrivalLedger {
  /** Records one object event; `duplicate` when this key + sequencer was recorded before. */
  recordArrival(arrival: Arrival): Promise<{ duplicate: boolean }>;
  pendingSummary(dataset: string): Promise<PendingSummary | null>;
  /**
   * Moves every pending partition of the dataset into the claim of `executionArn` and returns the whole claim.
   * Idempotent: a retry after a partial or lost attempt merges into the same claim and returns all of it.
   * An arrival recorded before the claim is in it; one recorded after stays pending for the next run.
   * With `limits` (issue 12), a first claim takes only the oldest pending partitions within them, and a retried
   * claim (its record already holds partitions) only finishes taking its own: the rest stays pending.
   */
  claimPending(dataset: string, executionArn: string, now: Date, limits?: ClaimLimits): Promise<string[]>;
  /** Owners of the dataset's claim records (live or not). */
  claimOwners(dataset: string): Promise<string[]>;
  /**
   * Puts an execution's claim back to pending, except the partitions in `keep` (processed, or named in a
   * notification), and forgets the claim. Returns what went back. Callers hold the run lease (`options.holder`,
   * by default the claim's owner; checked in each write). Resumable: it works in chunks that each leave the claim
   * as they are re-opened, and when its time budget runs out it throws a retryable error; the retry goes on with
   * what is left.
   */
  returnClaim(
    dataset: string,
    executionArn: string,
    keep?: readonly string[],
    options?: ReturnClaimOptions,
  ): Promise<string[]>;
  /** Forgets the record of a claim that its run has dealt with. */
  forgetClaim(dataset: string, executionArn: string): Promise<void>;
}

export interface ReturnClaimOptions {
  /** The lease holder doing the return (another run's claim is returned only by the holder). */
  holder?: string;
  /** Stop starting new chunks after this long (then throw a retryable error). */
  budgetMs?: number;
}

/** What a start-up lease says it is for: the execution to start, so anyone can re-issue the same StartExecution. */
export interface StartIntent {
  name: string;
  input: ExecutionInput;
}

export interface Lease {
  owner: string;
  expiresAt: string;
  /** The dataset's arrival counter (bumped with every recorded arrival): a give-back is conditional on it. */
  arrivals?: number;
  /** Present while the lease is a start-up lease: its execution may not have been started yet. */
  starting?: StartIntent;
}

/** One run per dataset: a lease with an owner and an expiry that is checked inside the conditional write. */
export interface RunLeaseStore {
  /**
   * Takes the lease if it is free, expired, already `owner`'s (then extends it), or held by `replacing` (an
   * execution known to be dead, or the caller handing its own lease on). With `starting`, it is a start-up lease
   * that names the execution to start; without, any start-up intent is dropped (the execution has started).
   */
  acquire(
    dataset: string,
    owner: string,
    now: Date,
    leaseSeconds: number,
    replacing?: string,
    starting?: StartIntent,
  ): Promise<boolean>;
  /**
   * Releases only if `owner` holds it and, when `expiresAt` is given, only if the lease still ends then (a
   * start-up lease whose execution has made it its run lease is not given back), and when `arrivals` is given,
   * only if no arrival was recorded since the counter read that value.
   */
  release(dataset: string, owner: string, expiresAt?: Date, arrivals?: number): Promise<boolean>;
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
  /** HeadObject on the raw bucket, for keys whose event encoding is ambiguous. Absent: the literal form wins. */
  objects?: ObjectStorePort;
  /**
   * Run artifacts by reference (issue 12): partition lists for the Distributed Map's ItemReader, its ResultWriter
   * output, the succeeded/failed lists. The artifacts bucket on AWS, files under the lake locally. Steps that need
   * it fail with a ConfigError when it is absent.
   */
  artifacts?: ArtifactStore;
  /**
   * Metrics a core emits itself, at the one moment a fact becomes true whoever called it (issue 15: the rows of a
   * job run, when the step that sees it SUCCEEDED reads its summary). Lambdas: EMF lines; local: the run history.
   * Recording never throws. Absent: not recorded.
   */
  metrics?: MetricsPort;
  /**
   * Issue 24: the raw files' schemas by ranged reads, the crawled raw table, and the dataset's fingerprints.
   * Absent: the drift step knows no fingerprints and leaves the crawler to crawler.when alone.
   */
  drift?: DriftPort;
  /** For console links in notifications. */
  consoleUrl(executionArn: string): string;
  /** The run's cost so far, for the failure notification (issue 23 item 6). Absent: the notification has no cost. */
  runCosts?: RunCostPort;
}

export interface RunCostPort {
  costOf(executionArn: string, dataset: string): Promise<RunCostReport>;
}

export interface MetricsPort {
  record(points: MetricPoint[], executionArn: string): void;
}

export type { PartitionValues };
