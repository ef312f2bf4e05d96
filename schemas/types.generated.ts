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
 * Input of the state machine: an automatic run started by the arrival intake or the catch-up schedule, or a manual run typed into the Step Functions console: explicit partitions, a range per key, or a manifest object (an S3 URI of a JSON array of partitions). The first step picks the form by its key (trigger, partitions, range, manifest) and names the bad field of that form.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "ExecutionInput".
 */
export type ExecutionInput = AutomaticRunInput | ManualRunInput | RangeRunInput | ManifestRunInput;
/**
 * s3://<bucket>/<key>
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "S3Uri".
 */
export type S3Uri = string;
/**
 * The content of a manifest object: a JSON array of partitions. Also the format of the list the Distributed Map reads with ItemReader (InputType JSON).
 *
 * @minItems 1
 * @maxItems 1000000
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "PartitionManifest".
 */
export type PartitionManifest = [PartitionValues, ...PartitionValues[]];
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "StartPartitionRefreshInput".
 */
export type StartPartitionRefreshInput = StartPartitionRefreshInput1 & StartPartitionRefreshInput2;
export type StartPartitionRefreshInput1 = {
  [k: string]: unknown;
};
/**
 * $$.Task.Token of a `.waitForTaskToken` Task (SendTaskSuccess accepts 1..2048 characters).
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "TaskToken".
 */
export type TaskToken = string;
/**
 * Outcome of one attempt to complete a wait. `still-running`: the one check found the work unfinished (an event ahead of the API, or a non-final event). `sent`: SendTaskSuccess/Failure accepted. `token-closed`/`token-invalid`/`task-missing`: Step Functions answered TaskTimedOut/InvalidToken/TaskDoesNotExist (the task ended another way). `already-sent`: a duplicate. `no-waiter`: nobody awaits this subject.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "Delivery".
 */
export type Delivery =
  'still-running' | 'sent' | 'token-closed' | 'token-invalid' | 'task-missing' | 'already-sent' | 'no-waiter';
/**
 * Any event the completion Lambda accepts.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "WaitStateChangeEvent".
 */
export type WaitStateChangeEvent = GlueJobStateChangeEvent | GlueCrawlerStateChangeEvent | AthenaQueryStateChangeEvent;

export interface SluiceSchemas {
  DatasetName?: DatasetName;
  PartitionValues?: PartitionValues;
  ExecutionArn?: ExecutionArn;
  Timestamp?: Timestamp;
  StepError?: StepError;
  JobRunResult?: JobRunResult;
  JobRowCounts?: JobRowCounts;
  PollState?: PollState;
  PartitionKeySpec?: PartitionKeySpec;
  PartitionLayout?: PartitionLayout;
  ColumnMapping?: ColumnMapping;
  PollingPolicy?: PollingPolicy;
  DatasetConfig?: DatasetConfig;
  SluiceConfig?: SluiceConfig;
  CheckSchemasInput?: CheckSchemasInput;
  DriftColumnsInfo?: DriftColumnsInfo;
  SchemaDrift?: SchemaDrift;
  CheckCrawledSchemaInput?: CheckCrawledSchemaInput;
  CrawledSchemaCheck?: CrawledSchemaCheck;
  AutomaticRunInput?: AutomaticRunInput;
  ManualRunInput?: ManualRunInput;
  ExecutionInput?: ExecutionInput;
  S3ObjectCreatedEvent?: S3ObjectCreatedEvent;
  S3Uri?: S3Uri;
  PartitionRange?: PartitionRange;
  RangeRunInput?: RangeRunInput;
  ManifestRunInput?: ManifestRunInput;
  PartitionManifest?: PartitionManifest;
  PartitionListRef?: PartitionListRef2;
  PartitionOutcome?: PartitionOutcome;
  MapRunOutput?: MapRunOutput;
  MapResultFileRef?: MapResultFileRef;
  MapResultManifest?: MapResultManifest;
  MapResultRecord?: MapResultRecord;
  SummarizeMapRunInput?: SummarizeMapRunInput;
  MapRunSummary?: MapRunSummary;
  JobRowSummary?: JobRowSummary;
  JobBatchPartition?: JobBatchPartition;
  JobBatch?: JobBatch;
  JobBatchPartitionResult?: JobBatchPartitionResult;
  JobBatchResult?: JobBatchResult;
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
  JobBatchRef?: JobBatchRef;
  JobWorkItem?: JobWorkItem;
  PlanJobRunsInput?: PlanJobRunsInput;
  PlanJobRunsOutput?: PlanJobRunsOutput;
  SummarizeJobRunsInput?: SummarizeJobRunsInput;
  JobRunSummary?: JobRunSummary;
  RefreshState?: RefreshState;
  StartPartitionRefreshInput?: StartPartitionRefreshInput;
  CheckPartitionRefreshInput?: CheckPartitionRefreshInput;
  NotifyFailureInput?: NotifyFailureInput;
  FailureReport?: FailureReport;
  RunCostReport?: RunCostReport;
  NotifyFailureOutput?: NotifyFailureOutput;
  ReleaseLeaseInput?: ReleaseLeaseInput;
  ReleaseLeaseOutput?: ReleaseLeaseOutput;
  TaskToken?: TaskToken;
  AwaitJobRunInput?: AwaitJobRunInput;
  AwaitCrawlerInput?: AwaitCrawlerInput;
  AwaitPartitionRefreshInput?: AwaitPartitionRefreshInput;
  AwaitOutput?: AwaitOutput;
  Delivery?: Delivery;
  GlueJobStateChangeEvent?: GlueJobStateChangeEvent;
  GlueCrawlerStateChangeEvent?: GlueCrawlerStateChangeEvent;
  AthenaQueryStateChangeEvent?: AthenaQueryStateChangeEvent;
  WaitStateChangeEvent?: WaitStateChangeEvent;
  CompletionReport?: CompletionReport;
  RecheckWaitMessage?: RecheckWaitMessage;
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
  rows?: JobRowCounts;
  /**
   * A batch job run's result (docs/batches.md): its partitions' own results are in the `results` object (a JSON array of JobRunResult), read by the summary; `ok` is true when every partition succeeded.
   */
  batch?: {
    index: number;
    count: number;
    succeededCount: number;
    failedCount: number;
    results: {
      bucket: string;
      key: string;
    };
  };
}
/**
 * Rows of one partition job run, from the summary object it wrote: read (in), written to the curated zone (out), kept in rejects files (bad); in = out + bad.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "JobRowCounts".
 */
export interface JobRowCounts {
  in: number;
  out: number;
  bad: number;
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
    /**
     * Missing-value markers: a value whose text is one of these is NULL, in every column (strings compared exactly, other types after trimming; a blank non-string value is always NULL). Default [""]. R writes NA, Hive and Postgres \N. See docs/cast-contract.md.
     *
     * @maxItems 32
     */
    nullValues?: string[];
    /**
     * IANA time zone of timestamps written without a zone (e.g. America/New_York); a zone in the text wins. Default UTC. See docs/cast-contract.md for daylight-saving gaps and overlaps.
     */
    timeZone?: string;
  };
  partitioning: PartitionLayout;
  crawler?: {
    name?: string;
    /**
     * Glue recrawl policy. new-folders-only (CRAWL_NEW_FOLDERS_ONLY) is cheap for append-only partitions but misses schema changes inside existing folders.
     */
    recrawl?: 'new-folders-only' | 'everything';
    /**
     * When a run starts the crawler (issue 24). schema-change: only when a file's schema fingerprint is new for the dataset, or the raw table does not exist yet; every-run: every run; never: only on a manual input with crawl: true. Each crawl bills at least 10 minutes at $0.44/DPU-hour.
     */
    when?: 'schema-change' | 'every-run' | 'never';
  };
  job?: {
    name?: string;
    maxConcurrentRuns?: number;
    timeoutMinutes?: number;
    /**
     * How many partitions one Glue job run converts. auto (default): batches sized by input bytes and count with the cost and time model (domain/cost/job-batches.ts, docs/batches.md): well above Glue's 1-minute billing minimum, well below timeoutMinutes, and using maxConcurrentRuns so a run is no slower than one job run per partition. N: at most N consecutive partitions per run; 1 is one job run per partition.
     */
    partitionsPerRun?: 'auto' | number;
    maxBadRowsFraction?: number;
    /**
     * A raw file that lacks a mapped column: its rows become bad rows whose reason names the file and the column (bad-rows), or the partition's job fails naming them (fail).
     */
    missingColumns?: 'bad-rows' | 'fail';
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
    /**
     * At most this many pending partitions per automatic run (oldest first); the rest stays pending for the follow-up run. 10,000 also keeps the claim record (one DynamoDB item, 400 KB) within bounds.
     */
    maxClaimPartitions?: number;
  };
  fanOut?: {
    maxConcurrency?: number;
  };
  polling?: PollingPolicy;
  /**
   * Alarm when the newest queryable arrival of this dataset is older than this many minutes. No freshness alarm when absent.
   */
  freshnessSlaMinutes?: number;
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
    /**
     * At most this many of a run's registration statements are active (queued or running) at once: a share of the account's Active DDL queries quota, which counts queued queries and answers TooManyRequestsException past it (https://docs.aws.amazon.com/athena/latest/ug/service-limits.html). Read the quota in Service Quotas and leave room for other DDL (crawlers do not use it; people and other tools do).
     */
    maxActiveDdl?: number;
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
    /**
     * Worker type of the Glue ETL (glueetl, Glue 5.0) jobs. G.025X is for streaming jobs only, so it is not offered.
     */
    glueWorkerType?: 'G.1X' | 'G.2X' | 'G.4X' | 'G.8X';
    glueWorkers?: number;
  };
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "CheckSchemasInput".
 */
export interface CheckSchemasInput {
  dataset: DatasetName;
  executionArn: ExecutionArn;
  /**
   * The run context ($.run): skipCrawler, and crawl (a manual input's crawl: true).
   */
  run: {};
  /**
   * The claim's (or prepare-run's) debounce state ($.debounce); its items are the partition list {bucket, key, count}.
   */
  debounce: {};
}
/**
 * A fingerprint first seen in this run: its class, the columns the mapping does not use (additive) or lacks (breaking), and the first file that has it.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "DriftColumnsInfo".
 */
export interface DriftColumnsInfo {
  fingerprint: string;
  class: 'none' | 'additive' | 'breaking';
  firstFile: string;
  newColumns: string[];
  missingColumns?: string[];
  uncastableColumns?: string[];
}
/**
 * Output of `Check the new files' schemas` ($.drift).
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "SchemaDrift".
 */
export interface SchemaDrift {
  items: PartitionListRef;
  failures: PartitionListRef1;
  failedCount: number;
  crawl: boolean;
  crawlReason: string;
  /**
   * Files whose schema was read (one ranged read each, two for Parquet).
   */
  files: number;
  /**
   * Files listed but not read within the step's time budget (their partitions go on unchecked).
   */
  unchecked?: number;
  /**
   * Partitions not even listed within the step's time budget.
   */
  uncheckedPartitions?: number;
  /**
   * Files no schema could be read from (their job run fails them, naming the file).
   */
  unreadable?: string[];
  /**
   * The distinct fingerprints of the run's files.
   */
  fingerprints: string[];
  /**
   * Fingerprints seen for the first time for the dataset in this run, each named once (additive: the new columns and the first file with them).
   */
  newFingerprints: DriftColumnsInfo[];
  /**
   * One line per new additive fingerprint, for the run summary and `sluice status`.
   */
  info?: string[];
}
/**
 * The partition list minus the partitions failed for breaking drift (the Map's item list).
 */
export interface PartitionListRef {
  bucket: string;
  key: string;
  count: number;
}
/**
 * The partitions failed for breaking drift: a JSON array of JobRunResult (state SCHEMA_DRIFT, the message names the files and columns); an empty array when none.
 */
export interface PartitionListRef1 {
  bucket: string;
  key: string;
  count: number;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "CheckCrawledSchemaInput".
 */
export interface CheckCrawledSchemaInput {
  dataset: DatasetName;
  executionArn: ExecutionArn;
  drift: SchemaDrift;
}
/**
 * The raw table the crawler wrote, classified against the mapping by the same rules as the files, and where that disagrees with the fingerprints' classification.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "CrawledSchemaCheck".
 */
export interface CrawledSchemaCheck {
  table: string;
  class: 'none' | 'additive' | 'breaking' | 'no-table';
  newColumns: string[];
  missingColumns: string[];
  disagreements: string[];
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
  /**
   * Run the crawler whatever crawler.when says (issue 24).
   */
  crawl?: boolean;
}
/**
 * A manual run over a range of partitions, e.g. {"dataset":"orders","range":{"from":{"year":"2024","month":"01","day":"01"},"to":{"year":"2024","month":"12","day":"31"}}}.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "RangeRunInput".
 */
export interface RangeRunInput {
  dataset: DatasetName;
  range: PartitionRange;
  skipCrawler?: boolean;
  /**
   * Run the crawler whatever crawler.when says (issue 24).
   */
  crawl?: boolean;
}
/**
 * Every partition from `from` to `to`, both included. Date keys (type date, or keys named year/month/day with hour) step through the calendar; other int keys step by one; any other key must have from == to.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "PartitionRange".
 */
export interface PartitionRange {
  from: PartitionValues;
  to: PartitionValues;
}
/**
 * A manual run over the partitions listed in a JSON object (a JSON array of partitions, see PartitionManifest), e.g. the failed-partitions object a failed run names in its notification.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "ManifestRunInput".
 */
export interface ManifestRunInput {
  dataset: DatasetName;
  manifest: S3Uri;
  skipCrawler?: boolean;
  /**
   * Run the crawler whatever crawler.when says (issue 24).
   */
  crawl?: boolean;
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
 * Where a run's partition list is (the Distributed Map's ItemReader reads it) and how many partitions it holds.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "PartitionListRef".
 */
export interface PartitionListRef2 {
  bucket: string;
  key: string;
  count: number;
}
/**
 * What a Distributed Map child returns: only what the summary needs. The partition is read from the child's Input in the result file; a JobRunResult (with partition) is accepted as well.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "PartitionOutcome".
 */
export interface PartitionOutcome {
  ok: boolean;
  state: string;
  message?: string;
  partition?: PartitionValues;
}
/**
 * A Distributed Map state's output when ResultWriter exports to S3: the Map Run ARN and where manifest.json is (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "MapRunOutput".
 */
export interface MapRunOutput {
  MapRunArn: string;
  ResultWriterDetails: {
    Bucket: string;
    Key: string;
  };
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "MapResultFileRef".
 */
export interface MapResultFileRef {
  Key: string;
  Size?: number;
}
/**
 * ResultWriter's manifest.json: the destination bucket, the Map Run ARN, and the result files per status (each a JSON array of child execution records, one file per status and up to 5 GB each).
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "MapResultManifest".
 */
export interface MapResultManifest {
  DestinationBucket: string;
  MapRunArn?: string;
  ResultFiles: {
    SUCCEEDED?: MapResultFileRef[];
    FAILED?: MapResultFileRef[];
    PENDING?: MapResultFileRef[];
  };
}
/**
 * One child execution in a ResultWriter result file (Transformation NONE, the default when exporting): Input and Output are JSON text; a FAILED child has Error and Cause instead of Output.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "MapResultRecord".
 */
export interface MapResultRecord {
  ExecutionArn: string;
  Name?: string;
  Input: string;
  InputDetails?: {};
  Output?: string;
  OutputDetails?: {};
  Status: string;
  Error?: string;
  Cause?: string;
  StartDate?: string;
  StopDate?: string;
  StateMachineArn?: string;
  RedriveCount?: number;
  RedriveStatus?: string;
  RedriveStatusReason?: string;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "SummarizeMapRunInput".
 */
export interface SummarizeMapRunInput {
  dataset: DatasetName;
  executionArn: ExecutionArn;
  mapRun: MapRunOutput;
  skipCrawler?: boolean;
  preJobFailures?: PartitionListRef3;
}
/**
 * Where a run's partition list is (the Distributed Map's ItemReader reads it) and how many partitions it holds.
 */
export interface PartitionListRef3 {
  bucket: string;
  key: string;
  count: number;
}
/**
 * The summary of a Distributed Map run, small at any size: counts, the first failures, and references to the full lists.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "MapRunSummary".
 */
export interface MapRunSummary {
  total: number;
  succeededCount: number;
  failedCount: number;
  /**
   * @maxItems 50
   */
  firstFailures: JobRunResult[];
  resultsManifest: S3Uri;
  /**
   * The succeeded partitions (read by the Athena registration), or null when none succeeded.
   */
  succeeded: PartitionListRef2 | null;
  /**
   * The failed partitions as a manifest object, or null when none failed.
   */
  failed: PartitionListRef2 | null;
  /**
   * The manual input that re-runs exactly the failed partitions, or null.
   */
  rerunInput: ManifestRunInput | null;
}
/**
 * The object a partition's Glue job run writes as its last act before it succeeds (adapters/aws/glue/convert_partition.py write_job_summary), at the --sluice_summary_path its start step chose; the check step reads it for the Rows metrics.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "JobRowSummary".
 */
export interface JobRowSummary {
  version: 1;
  /**
   * Glue's JOB_RUN_ID of the run that wrote it, when Glue passed one.
   */
  jobRunId?: string;
  runKey: string;
  dataset: string;
  rowsIn: number;
  rowsOut: number;
  rowsBad: number;
  /**
   * s3:// folder of the rejected rows (null when there are none).
   */
  rejectsPath: string | null;
}
/**
 * One partition of a job batch: what a single-partition run gets as --sluice_partition, --sluice_source_path, --sluice_target_path, --sluice_run_key and --sluice_summary_path (domain/steps/jobs.ts jobArguments).
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "JobBatchPartition".
 */
export interface JobBatchPartition {
  partition: PartitionValues;
  /**
   * The partition's own run key (jobRunKey): its rejects folder and summary are named by it, as in a single-partition run.
   */
  runKey: string;
  sourcePath: string;
  targetPath: string;
  /**
   * Where the partition's JobRowSummary is written when it succeeds (as --sluice_summary_path).
   */
  summaryPath?: string;
  /**
   * The partition's input bytes as the planner saw them (domain/cost/job-batches.ts); information only.
   */
  bytes?: number;
}
/**
 * The partitions one Glue job run converts (docs/batches.md). Written by the start step to the artifacts bucket under runs/<service>/<execution>/batches/<n>.json and named by the run's --sluice_batch argument (Glue's job arguments are limited to 260 KB in all). Each partition is converted, counted and summarized on its own; the run writes a JobBatchResult to resultPath.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "JobBatch".
 */
export interface JobBatch {
  version: 1;
  dataset: DatasetName;
  /**
   * Idempotency key of this (execution, batch): the job run's --sluice_run_key.
   */
  batchKey: string;
  /**
   * Where the run writes its JobBatchResult: next to the batch file (<n>.result.json).
   */
  resultPath: string;
  /**
   * @minItems 1
   * @maxItems 10000
   */
  partitions: [JobBatchPartition, ...JobBatchPartition[]];
}
/**
 * One partition's outcome inside a batch: converted (with its row summary) or failed with its reason, as a single-partition run's result would be.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "JobBatchPartitionResult".
 */
export interface JobBatchPartitionResult {
  partition: PartitionValues;
  runKey: string;
  ok: boolean;
  /**
   * Why the partition failed, in the words a failed single-partition run's ErrorMessage would have (the file and line first).
   */
  message?: string;
  summary?: JobRowSummary;
}
/**
 * What one batch job run did, partition by partition (written to the batch's resultPath as its last act before it succeeds). The run SUCCEEDS when it could process the batch at all; failed partitions are listed here with their reasons.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "JobBatchResult".
 */
export interface JobBatchResult {
  version: 1;
  /**
   * Glue's JOB_RUN_ID of the run that wrote it, when Glue passed one.
   */
  jobRunId?: string;
  dataset: DatasetName;
  batchKey: string;
  partitions: JobBatchPartitionResult[];
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
  /**
   * A manual input's crawl: true (issue 24): the crawler runs whatever crawler.when says.
   */
  crawl?: boolean;
  maxConcurrency: number;
  /**
   * Where the run's artifacts go (the Distributed Map's ItemReader list, its ResultWriter output, the succeeded and failed lists).
   */
  artifactsBucket?: string;
  /**
   * ResultWriter Prefix: runs/<state machine>/<execution>/map-results (domain/common/artifacts.ts).
   */
  resultsPrefix?: string;
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
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "ClaimArrivalsOutput".
 */
export interface ClaimArrivalsOutput {
  settled: boolean;
  waitSeconds: number;
  items?: PartitionListRef4;
  /**
   * When the partitions were settled: every claimed object landed before it, so a crawl that starts after it sees them all.
   */
  claimedAt: string;
  partitionCount: number;
  /**
   * The oldest pending arrival when the claim settled (debounce wait = claimedAt - firstArrivalAt).
   */
  firstArrivalAt?: string;
  /**
   * The newest pending arrival when the claim settled (landing-to-queryable latency is measured from it).
   */
  lastArrivalAt?: string;
}
/**
 * Where a run's partition list is (the Distributed Map's ItemReader reads it) and how many partitions it holds.
 */
export interface PartitionListRef4 {
  bucket: string;
  key: string;
  count: number;
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
  batch?: JobBatchRef;
  executionArn: ExecutionArn;
}
/**
 * Which job run of the run's plan a Map item is (docs/batches.md): `index` names the batch file runs/<state machine>/<execution>/batches/<index>.json. A batch of one partition has no file and no index: its partition travels inline, as before batching.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "JobBatchRef".
 */
export interface JobBatchRef {
  index?: number;
  /**
   * Partitions in the batch.
   */
  count: number;
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "CheckJobRunInput".
 */
export interface CheckJobRunInput {
  dataset: DatasetName;
  partition: PartitionValues;
  batch?: JobBatchRef;
  job: JobRunState;
  executionArn: ExecutionArn;
}
/**
 * One item of the Distributed Map's list, written by "Plan the job runs": one Glue job run. `partition` is the batch's first partition (the only one of a batch of one).
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "JobWorkItem".
 */
export interface JobWorkItem {
  partition: PartitionValues;
  batch: JobBatchRef;
}
/**
 * State "Plan the job runs": the run's partition list (a JSON array of partitions in the artifacts bucket).
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "PlanJobRunsInput".
 */
export interface PlanJobRunsInput {
  dataset: DatasetName;
  executionArn: ExecutionArn;
  /**
   * An automatic run converts only what fits its time budget; the rest of its claim goes back to pending at its release, for the follow-up run.
   */
  mode?: 'automatic' | 'manual';
  items: {
    bucket: string;
    key: string;
    count?: number;
  };
}
/**
 * The plan: the Map's item list (one JobWorkItem per Glue job run) and the model's figures for it.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "PlanJobRunsOutput".
 */
export interface PlanJobRunsOutput {
  items: PartitionListRef2;
  partitions: number;
  jobRuns: number;
  /**
   * Partitions of an automatic run's claim left for the follow-up run: over the time budget.
   */
  deferred?: number;
  /**
   * Where the partitions' input bytes came from: listed for every partition, listed for a sample (the rest at the sample's mean), or unknown (then "auto" runs one partition per job run).
   */
  sized: 'measured' | 'sampled' | 'unknown';
  modelledGlueDollars?: number;
  modelledWallSeconds?: number;
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
  /**
   * Issue 23: statements of the whole registration; `queryExecutionIds` are the current wave's only.
   */
  statementCount?: number;
  /**
   * Statements started so far (the waves before and the current one).
   */
  startedStatements?: number;
  /**
   * Every query of the current wave succeeded; `done` is false while statements remain for a next wave.
   */
  waveDone?: boolean;
}
export interface StartPartitionRefreshInput2 {
  dataset: DatasetName;
  executionArn: ExecutionArn;
  partitions?: PartitionValues[];
  succeeded?: PartitionListRef5;
  /**
   * $$.Execution.RedriveCount: part of the Athena ClientRequestToken, so a redrive does not get the earlier (failed) query back.
   */
  redriveCount?: number;
  refresh?: RefreshState1;
}
/**
 * Where a run's partition list is (the Distributed Map's ItemReader reads it) and how many partitions it holds.
 */
export interface PartitionListRef5 {
  bucket: string;
  key: string;
  count: number;
}
/**
 * Issue 23: the registration so far; its wave is done, and the step starts the next one.
 */
export interface RefreshState1 {
  queryExecutionIds: string[];
  partitionCount: number;
  startedAt: Timestamp;
  done: boolean;
  waitSeconds: number;
  /**
   * Issue 23: statements of the whole registration; `queryExecutionIds` are the current wave's only.
   */
  statementCount?: number;
  /**
   * Statements started so far (the waves before and the current one).
   */
  startedStatements?: number;
  /**
   * Every query of the current wave succeeded; `done` is false while statements remain for a next wave.
   */
  waveDone?: boolean;
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
  /**
   * All failed partitions; failedPartitions lists the first of them only.
   */
  failedCount?: number;
  /**
   * The object listing every failed partition (a manifest a manual run accepts).
   */
  failedPartitionsUri?: string;
  /**
   * The Distributed Map's ResultWriter manifest: every child's result.
   */
  resultsManifest?: string;
  cost?: RunCostReport;
}
/**
 * What the run has cost so far, in dollars (domain/cost/run-cost-report.ts RunCost): billed from AWS's figures, or modelled.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "RunCostReport".
 */
export interface RunCostReport {
  glue: number;
  crawler: number;
  athena: number;
  stepFunctions: number;
  total: number;
  basis: 'billed' | 'modelled';
  counts: {
    jobRuns: number;
    crawls: number;
    queries: number;
    transitions: number;
  };
  notes?: string[];
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
  /**
   * The run state ($). The step puts back every claimed partition that is neither processed (jobResults.succeeded, a list object) nor named in the notification's re-run input (its partitions, or the manifest object it names). Read defensively.
   */
  state?: {};
}
/**
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "ReleaseLeaseOutput".
 */
export interface ReleaseLeaseOutput {
  released: boolean;
  followUpExecutionArn?: string;
}
/**
 * Payload of the `Wait for the job run` Task: the CheckJobRunInput it would poll with, plus the task token.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "AwaitJobRunInput".
 */
export interface AwaitJobRunInput {
  dataset: DatasetName;
  partition: PartitionValues;
  batch?: JobBatchRef;
  job: JobRunState;
  executionArn: ExecutionArn;
  taskToken: TaskToken;
}
/**
 * Payload of the `Wait for the crawler` Task: the CheckCrawlerInput plus the task token.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "AwaitCrawlerInput".
 */
export interface AwaitCrawlerInput {
  dataset: DatasetName;
  crawl: CrawlState;
  executionArn: ExecutionArn;
  taskToken: TaskToken;
}
/**
 * Payload of the `Wait for the Athena registration` Task: the CheckPartitionRefreshInput plus the task token.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "AwaitPartitionRefreshInput".
 */
export interface AwaitPartitionRefreshInput {
  dataset: DatasetName;
  refresh: RefreshState;
  executionArn: ExecutionArn;
  taskToken: TaskToken;
}
/**
 * What an await step did. Step Functions ignores it (the Task ends on SendTaskSuccess/Failure); it is for logs and tests.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "AwaitOutput".
 */
export interface AwaitOutput {
  /**
   * @minItems 1
   */
  subjects: [string, ...string[]];
  waiterId: string;
  delivery: Delivery;
  recheckInSeconds?: number;
}
/**
 * EventBridge `Glue Job State Change` (source aws.glue), emitted for SUCCEEDED, FAILED, TIMEOUT and STOPPED, best effort. AWS may add fields: unknown ones are allowed.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "GlueJobStateChangeEvent".
 */
export interface GlueJobStateChangeEvent {
  source: 'aws.glue';
  'detail-type': 'Glue Job State Change';
  time?: string;
  detail: {
    jobName: string;
    jobRunId: string;
    state: string;
    severity?: string;
    message?: string;
  };
}
/**
 * EventBridge `Glue Crawler State Change` (source aws.glue), emitted for Started, Succeeded and Failed, best effort.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "GlueCrawlerStateChangeEvent".
 */
export interface GlueCrawlerStateChangeEvent {
  source: 'aws.glue';
  'detail-type': 'Glue Crawler State Change';
  time?: string;
  detail: {
    crawlerName: string;
    state: string;
    startTime?: string;
    completionDate?: string;
    errorMessage?: string;
    message?: string;
  };
}
/**
 * EventBridge `Athena Query State Change` (source aws.athena), emitted on every state transition, best effort.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "AthenaQueryStateChangeEvent".
 */
export interface AthenaQueryStateChangeEvent {
  source: 'aws.athena';
  'detail-type': 'Athena Query State Change';
  time?: string;
  detail: {
    queryExecutionId: string;
    currentState: string;
    previousState?: string;
    workgroupName?: string;
    statementType?: string;
    sequenceNumber?: string;
    versionId?: string;
  };
}
/**
 * What the completion or re-check Lambda did for one subject: one delivery per waiter found.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "CompletionReport".
 */
export interface CompletionReport {
  subject: string;
  deliveries: {
    waiterId: string;
    delivery: Delivery;
  }[];
  /**
   * Why the event needed no look-up at all (e.g. a crawler `Started` event).
   */
  ignored?: string;
}
/**
 * The fallback poll, outside the state machine: an SQS message (DelaySeconds <= 900) asking to check one waiter again.
 *
 * This interface was referenced by `SluiceSchemas`'s JSON-Schema
 * via the `definition` "RecheckWaitMessage".
 */
export interface RecheckWaitMessage {
  subject: string;
  waiterId: string;
}
