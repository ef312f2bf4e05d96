/* Generated from schemas/*.schema.json by `npm run gen:types`. Do not edit: change the schema instead. */

/**
 * Lower-case dataset name; also used in resource names and SQL identifiers.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "DatasetName".
 */
export type DatasetName = string;
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "ExecutionArn".
 */
export type ExecutionArn = string;
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "Timestamp".
 */
export type Timestamp = string;
/**
 * Input of the state machine: an automatic run started by the arrival intake or the catch-up schedule, or a manual run typed into the Step Functions console.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "ExecutionInput".
 */
export type ExecutionInput = AutomaticRunInput | ManualRunInput;

export interface SluiceSchemas {
  DatasetName?: DatasetName;
  PartitionValues?: PartitionValues;
  ExecutionArn?: ExecutionArn;
  Timestamp?: Timestamp;
  StepError?: StepError;
  JobRunResult?: JobRunResult;
  PollState?: PollState;
  PartitionKeySpec?: PartitionKeySpec;
  PartitionLayout?: PartitionLayout;
  ColumnMapping?: ColumnMapping;
  PollingPolicy?: PollingPolicy;
  DatasetConfig?: DatasetConfig;
  SluiceConfig?: SluiceConfig;
  AutomaticRunInput?: AutomaticRunInput;
  ManualRunInput?: ManualRunInput;
  ExecutionInput?: ExecutionInput;
  S3ObjectCreatedEvent?: S3ObjectCreatedEvent;
  RunContext?: RunContext;
  PrepareRunInput?: PrepareRunInput;
  PrepareRunOutput?: PrepareRunOutput;
  ClaimArrivalsInput?: ClaimArrivalsInput;
  ClaimArrivalsOutput?: ClaimArrivalsOutput;
  CrawlState?: CrawlState;
  StartCrawlerInput?: StartCrawlerInput;
  CheckCrawlerInput?: CheckCrawlerInput;
  JobRunState?: JobRunState;
  StartJobRunInput?: StartJobRunInput;
  CheckJobRunInput?: CheckJobRunInput;
  SummarizeJobRunsInput?: SummarizeJobRunsInput;
  JobRunSummary?: JobRunSummary;
  RefreshState?: RefreshState;
  StartPartitionRefreshInput?: StartPartitionRefreshInput;
  CheckPartitionRefreshInput?: CheckPartitionRefreshInput;
  NotifyFailureInput?: NotifyFailureInput;
  FailureReport?: FailureReport;
  NotifyFailureOutput?: NotifyFailureOutput;
  ReleaseLeaseInput?: ReleaseLeaseInput;
  ReleaseLeaseOutput?: ReleaseLeaseOutput;
}
/**
 * One partition as key -> value, e.g. {"year":"2024","month":"01","day":"05"}. Each value is checked against its key's pattern in the dataset config.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "PartitionValues".
 */
export interface PartitionValues {
  [k: string]: string;
}
/**
 * What a Catch clause stores: the error name and its cause.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "StepError".
 */
export interface StepError {
  Error: string;
  Cause?: string;
}
/**
 * Outcome of one partition's Glue job run, kept small: 1,000 of them share one 256 KiB state payload.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "JobRunResult".
 */
export interface JobRunResult {
  partition: PartitionValues;
  ok: boolean;
  state: string;
  message?: string;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "PollState".
 */
export interface PollState {
  startedAt: Timestamp;
  done: boolean;
  waitSeconds: number;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "PartitionKeySpec".
 */
export interface PartitionKeySpec {
  name: string;
  type: 'string' | 'int' | 'date';
  /**
   * Anchored regular expression every value must match, e.g. ^[0-9]{4}$. Values reach DDL, so keep it strict.
   */
  pattern: string;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "PartitionLayout".
 */
export interface PartitionLayout {
  style: 'hive' | 'template';
  /**
   * For style 'template': the folder layout under the raw prefix, e.g. {year}/{month}/{day}/
   */
  template?: string;
  /**
   * @minItems 1
   * @maxItems 10
   */
  keys:
    | [PartitionKeySpec]
    | [PartitionKeySpec, PartitionKeySpec]
    | [PartitionKeySpec, PartitionKeySpec, PartitionKeySpec]
    | [PartitionKeySpec, PartitionKeySpec, PartitionKeySpec, PartitionKeySpec]
    | [PartitionKeySpec, PartitionKeySpec, PartitionKeySpec, PartitionKeySpec, PartitionKeySpec]
    | [PartitionKeySpec, PartitionKeySpec, PartitionKeySpec, PartitionKeySpec, PartitionKeySpec, PartitionKeySpec]
    | [
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec
      ]
    | [
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec
      ]
    | [
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec
      ]
    | [
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec,
        PartitionKeySpec
      ];
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "ColumnMapping".
 */
export interface ColumnMapping {
  source: string;
  target: string;
  type: string;
}
/**
 * Wait between polls = clamp(elapsed * growth, minSeconds, maxSeconds): polls grow ~logarithmically with run time.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "PollingPolicy".
 */
export interface PollingPolicy {
  minSeconds?: number;
  maxSeconds?: number;
  growth?: number;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "DatasetConfig".
 */
export interface DatasetConfig {
  name: DatasetName;
  raw: {
    prefix: string;
    format: 'csv' | 'json' | 'parquet';
  };
  partitioning: PartitionLayout;
  crawler?: {
    name?: string;
    /**
     * Glue recrawl policy. new-folders-only (CRAWL_NEW_FOLDERS_ONLY) is cheap for append-only partitions but misses schema changes inside existing folders.
     */
    recrawl?: 'new-folders-only' | 'everything';
  };
  job?: {
    name?: string;
    maxConcurrentRuns?: number;
    timeoutMinutes?: number;
    maxBadRowsFraction?: number;
    arguments?: {
      [k: string]: string;
    };
  };
  target: {
    database: string;
    table: string;
    /**
     * Path inside the curated bucket, with {key} placeholders, e.g. orders/year={year}/month={month}/
     */
    locationTemplate: string;
  };
  /**
   * @minItems 1
   */
  mapping: [ColumnMapping, ...ColumnMapping[]];
  debounce?: {
    quietSeconds?: number;
    maxWaitSeconds?: number;
  };
  fanOut?: {
    maxConcurrency?: number;
  };
  polling?: PollingPolicy;
}
/**
 * Per-stage configuration: where the lake lives and which datasets sluice orchestrates. Validated once, at load.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "SluiceConfig".
 */
export interface SluiceConfig {
  stage: string;
  region?: string;
  lake: {
    rawBucket: string;
    curatedBucket: string;
  };
  athena?: {
    workgroup?: string;
    partitionsPerStatement?: number;
  };
  /**
   * @minItems 1
   */
  datasets: [DatasetConfig, ...DatasetConfig[]];
  /**
   * Stack settings for `sls deploy --stage <stage>`.
   */
  deploy?: {
    /**
     * Subscribed to the failure topic when set.
     */
    alarmEmail?: string;
    logRetentionDays?: 1 | 3 | 5 | 7 | 14 | 30 | 60 | 90 | 120 | 150 | 180 | 365 | 400 | 545 | 731 | 1827 | 3653;
    /**
     * Keep buckets and the state table when the stack is removed.
     */
    retainData?: boolean;
    /**
     * EventBridge schedule expression for the catch-up run, e.g. rate(1 hour). Off when absent.
     */
    catchUpSchedule?: string;
    glueWorkerType?: 'G.1X' | 'G.2X' | 'G.025X';
    glueWorkers?: number;
  };
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "AutomaticRunInput".
 */
export interface AutomaticRunInput {
  dataset: DatasetName;
  trigger: 'arrival' | 'schedule' | 'follow-up';
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "ManualRunInput".
 */
export interface ManualRunInput {
  dataset: DatasetName;
  /**
   * @minItems 1
   * @maxItems 5000
   */
  partitions: [PartitionValues, ...PartitionValues[]];
  skipCrawler?: boolean;
}
/**
 * The EventBridge event S3 sends for a new object (detail-type 'Object Created'). Only the fields sluice reads are required.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "S3ObjectCreatedEvent".
 */
export interface S3ObjectCreatedEvent {
  id: string;
  version?: string;
  source: 'aws.s3';
  'detail-type': 'Object Created';
  account?: string;
  time: string;
  region?: string;
  resources?: string[];
  detail: {
    version?: string;
    bucket: {
      name: string;
    };
    object: {
      /**
       * URL-encoded, as S3 sends it (spaces as '+').
       */
      key: string;
      size: number;
      etag?: string;
      'version-id'?: string;
      sequencer: string;
    };
    'request-id'?: string;
    requester?: string;
    'source-ip-address'?: string;
    reason?: string;
  };
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "RunContext".
 */
export interface RunContext {
  dataset: DatasetName;
  stage: string;
  mode: 'automatic' | 'manual';
  trigger?: string;
  executionArn: ExecutionArn;
  skipCrawler: boolean;
  maxConcurrency: number;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "PrepareRunInput".
 */
export interface PrepareRunInput {
  /**
   * The raw execution input; validated by the step against ExecutionInput.
   */
  request: {
    [k: string]: unknown;
  };
  executionArn: ExecutionArn;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "PrepareRunOutput".
 */
export interface PrepareRunOutput {
  run: RunContext;
  debounce: ClaimArrivalsOutput;
  partitions?: PartitionValues[];
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "ClaimArrivalsOutput".
 */
export interface ClaimArrivalsOutput {
  settled: boolean;
  waitSeconds: number;
  partitions: PartitionValues[];
  /**
   * When the partitions were settled: every claimed object landed before it, so a crawl that starts after it sees them all.
   */
  claimedAt: string;
  partitionCount: number;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "ClaimArrivalsInput".
 */
export interface ClaimArrivalsInput {
  dataset: DatasetName;
  executionArn: ExecutionArn;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "CrawlState".
 */
export interface CrawlState {
  crawlerName: string;
  /**
   * false: another crawl that began before our request is running; wait, then start ours.
   */
  started: boolean;
  /**
   * true: a crawl that began after our request was already running (a retry, or someone else's); we wait for it instead of starting another.
   */
  attached?: boolean;
  done: boolean;
  requestedAt: Timestamp;
  startedAt?: Timestamp;
  waitSeconds: number;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "StartCrawlerInput".
 */
export interface StartCrawlerInput {
  dataset: DatasetName;
  requestedAt: Timestamp;
  executionArn: ExecutionArn;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "CheckCrawlerInput".
 */
export interface CheckCrawlerInput {
  dataset: DatasetName;
  crawl: CrawlState;
  executionArn: ExecutionArn;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "JobRunState".
 */
export interface JobRunState {
  runId: string;
  runKey: string;
  attached?: boolean;
  startedAt: Timestamp;
  done: boolean;
  waitSeconds: number;
  result?: JobRunResult;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "StartJobRunInput".
 */
export interface StartJobRunInput {
  dataset: DatasetName;
  partition: PartitionValues;
  executionArn: ExecutionArn;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "CheckJobRunInput".
 */
export interface CheckJobRunInput {
  dataset: DatasetName;
  partition: PartitionValues;
  job: JobRunState;
  executionArn: ExecutionArn;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "SummarizeJobRunsInput".
 */
export interface SummarizeJobRunsInput {
  dataset: DatasetName;
  results: JobRunResult[];
  executionArn: ExecutionArn;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "JobRunSummary".
 */
export interface JobRunSummary {
  succeeded: PartitionValues[];
  failed: JobRunResult[];
  succeededCount: number;
  failedCount: number;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "RefreshState".
 */
export interface RefreshState {
  queryExecutionIds: string[];
  partitionCount: number;
  startedAt: Timestamp;
  done: boolean;
  waitSeconds: number;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "StartPartitionRefreshInput".
 */
export interface StartPartitionRefreshInput {
  dataset: DatasetName;
  executionArn: ExecutionArn;
  partitions: PartitionValues[];
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "CheckPartitionRefreshInput".
 */
export interface CheckPartitionRefreshInput {
  dataset: DatasetName;
  refresh: RefreshState;
  executionArn: ExecutionArn;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "NotifyFailureInput".
 */
export interface NotifyFailureInput {
  executionArn: ExecutionArn;
  /**
   * The whole run state at the moment of failure. Catch clauses store errors under failure.<stepId>.
   */
  state: {
    dataset?: string;
    run?: RunContext;
    partitions?: PartitionValues[];
    crawl?: CrawlState;
    /**
     * A JobRunSummary once summarized; the raw Map results before that. Read defensively: notifying must not fail on odd state.
     */
    jobResults?: {
      [k: string]: unknown;
    };
    failure?: {
      [k: string]: StepError;
    };
  };
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "FailureReport".
 */
export interface FailureReport {
  dataset: string;
  stage: string;
  failedStep: string;
  error: string;
  cause: string;
  failedPartitions: JobRunResult[];
  executionArn: string;
  consoleUrl: string;
  rerunInput: {} | null;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "NotifyFailureOutput".
 */
export interface NotifyFailureOutput {
  messageId: string;
  report: FailureReport;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "ReleaseLeaseInput".
 */
export interface ReleaseLeaseInput {
  dataset: DatasetName;
  executionArn: ExecutionArn;
  outcome: 'succeeded' | 'failed';
  runStartedAt: Timestamp;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "ReleaseLeaseOutput".
 */
export interface ReleaseLeaseOutput {
  released: boolean;
  followUpExecutionArn?: string;
}
