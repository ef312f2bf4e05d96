/**
 * Dataset configuration is data: one JSON file per stage (`config/<stage>.json`), validated once at load
 * against `schemas/dataset-config.schema.json` plus the cross-field rules a schema cannot express.
 */
import { readFileSync } from 'node:fs';
import type {
  ColumnMapping,
  DatasetConfig,
  PartitionKeySpec,
  PollingPolicy,
  SluiceConfig,
} from '../../schemas/types.generated';
import { ConfigError, UnknownDatasetError, validate } from '../common';
import { executionNameFor } from './execution-names';

/**
 * A run claims at most this many pending partitions by default (`debounce.maxClaimPartitions`; why, in
 * runs/claim-limits.ts).
 */
export const DEFAULT_MAX_CLAIM_PARTITIONS = 10_000;

/** A zone name ICU knows (Node's Intl; DuckDB's ICU and Java's tz database know the same IANA names). */
function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export interface ResolvedDataset {
  name: string;
  /** nullValues and timeZone: how raw text is read (domain/rows/cast-contract.ts ReadOptions), defaults applied. */
  raw: { bucket: string; prefix: string; format: 'csv' | 'json' | 'parquet'; nullValues: string[]; timeZone: string };
  partitioning: { style: 'hive' | 'template'; template: string; keys: PartitionKeySpec[] };
  /** when (issue 24): whether a run starts the crawler; see domain/drift/schema-drift.ts crawlerDecision. */
  crawler: { name: string; recrawl: 'new-folders-only' | 'everything'; when: 'schema-change' | 'every-run' | 'never' };
  job: {
    name: string;
    maxConcurrentRuns: number;
    timeoutMinutes: number;
    /** Partitions per Glue job run: 'auto' sizes batches with the cost model (domain/cost/job-batches.ts); 1 is one each. */
    partitionsPerRun: 'auto' | number;
    maxBadRowsFraction: number;
    /** A raw file lacking a mapped column: its rows become bad rows naming file and column, or the job fails. */
    missingColumns: 'bad-rows' | 'fail';
    arguments: Record<string, string>;
  };
  /** `folder`: the dataset's own folder in the curated bucket (the table's Location, and the scope of its IAM). */
  target: { bucket: string; database: string; table: string; locationTemplate: string; folder: string };
  mapping: ColumnMapping[];
  debounce: { quietSeconds: number; maxWaitSeconds: number; maxClaimPartitions: number };
  fanOut: { maxConcurrency: number };
  polling: Required<PollingPolicy>;
  /** Freshness alarm threshold (issue 15); no alarm when absent. */
  freshnessSlaMinutes?: number;
  /** Names of this dataset's own AWS resources, derived once here and checked against AWS's limits. */
  names: { arrivalRule: string };
}

export interface ResolvedConfig {
  stage: string;
  region: string;
  lake: { rawBucket: string; curatedBucket: string };
  athena: { workgroup: string; partitionsPerStatement: number; maxActiveDdl: number };
  deploy: {
    alarmEmail?: string;
    logRetentionDays: number;
    retainData: boolean;
    catchUpSchedule?: string;
    glueWorkerType: string;
    glueWorkers: number;
  };
  datasets: ResolvedDataset[];
  /** Names of the stage's AWS resources, derived once here and checked against AWS's limits at load. */
  names: StageNames;
}

export interface StageNames {
  /** `sluice-<stage>`: the prefix of every derived name, and the state machine's and Lambda functions' prefix. */
  service: string;
  stateMachine: string;
  stateTable: string;
  failureTopic: string;
  deadLetterQueue: string;
  recoveryQueue: string;
  executionStatusRule: string;
  catchUpRule: string;
  glueSecurityConfiguration: string;
  keyAlias: string;
  rawDatabase: string;
  /** The artifacts bucket's name with CloudFormation's ${AWS::AccountId} and ${AWS::Region} left in. */
  artifactsBucketTemplate: string;
  /** Lambda function name for a function id (`sluice-<stage>-<id>`, as the Serverless Framework names them). */
  lambda(functionId: string): string;
}

const PLACEHOLDER = /\{([a-z][a-z0-9_]*)\}/g;

function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
}

/** Where the Glue job writes rows it could not cast: `_rejected/<dataset>/<run key>/` in the curated bucket. */
export const REJECTED_FOLDER = '_rejected/';

/** The folders of a location template before the first one that holds a {key}: `orders/year={year}/` -> `orders/`. */
export function targetFolderOf(locationTemplate: string): string {
  const folders = locationTemplate.split('/');
  const firstKeyed = folders.findIndex((f) => f.includes('{'));
  return folders.slice(0, firstKeyed < 0 ? folders.length : firstKeyed).join('/') + (firstKeyed > 0 ? '/' : '');
}

function checkDataset(d: DatasetConfig, at: string): void {
  const keyNames = d.partitioning.keys.map((k) => k.name);
  const duplicateKey = keyNames.find((k, i) => keyNames.indexOf(k) !== i);
  if (duplicateKey) throw new ConfigError(`${at}/partitioning/keys has '${duplicateKey}' twice`);
  if (d.raw.timeZone !== undefined && !isKnownTimeZone(d.raw.timeZone))
    throw new ConfigError(`${at}/raw/timeZone '${d.raw.timeZone}' is not an IANA time zone name`);
  d.partitioning.keys.forEach((k, i) => {
    try {
      new RegExp(k.pattern);
    } catch (error) {
      throw new ConfigError(`${at}/partitioning/keys/${i}/pattern is not a valid regular expression: ${String(error)}`);
    }
  });
  if (d.partitioning.style === 'template') {
    if (!d.partitioning.template)
      throw new ConfigError(`${at}/partitioning/template is required when style is 'template'`);
    const used = placeholders(d.partitioning.template);
    if (used.join('/') !== keyNames.join('/'))
      throw new ConfigError(
        `${at}/partitioning/template must use every key once, in order (${keyNames.join(', ')}); it uses ${used.join(', ')}`,
      );
  } else if (d.partitioning.template !== undefined) {
    throw new ConfigError(`${at}/partitioning/template is only allowed when style is 'template'`);
  }
  if (targetFolderOf(d.target.locationTemplate) === '')
    throw new ConfigError(
      `${at}/target/locationTemplate must start with the dataset's own folder, e.g. ${d.name}/${d.target.locationTemplate}; ` +
        'a template that starts with a {key} would make the table (and its permissions) the whole curated bucket',
    );
  if (targetFolderOf(d.target.locationTemplate).startsWith(REJECTED_FOLDER))
    throw new ConfigError(`${at}/target/locationTemplate must not be under ${REJECTED_FOLDER}, where rejected rows go`);
  const targetKeys = placeholders(d.target.locationTemplate);
  const unknown = targetKeys.find((k) => !keyNames.includes(k));
  if (unknown) throw new ConfigError(`${at}/target/locationTemplate uses {${unknown}}, which is not a partition key`);
  const missing = keyNames.find((k) => !targetKeys.includes(k));
  if (missing)
    throw new ConfigError(
      `${at}/target/locationTemplate must place every partition key; {${missing}} is missing, so partitions would overwrite each other`,
    );
  const targets = d.mapping.map((m) => m.target);
  const dupTarget = targets.find((t, i) => targets.indexOf(t) !== i);
  if (dupTarget) throw new ConfigError(`${at}/mapping targets '${dupTarget}' twice`);
  const clash = targets.find((t) => keyNames.includes(t));
  if (clash) throw new ConfigError(`${at}/mapping target '${clash}' clashes with a partition key of the same name`);
  const maxConcurrency = d.fanOut?.maxConcurrency ?? 10;
  const maxRuns = d.job?.maxConcurrentRuns ?? 10;
  if (maxConcurrency > maxRuns)
    throw new ConfigError(
      `${at}/fanOut/maxConcurrency (${maxConcurrency}) is above ${at}/job/maxConcurrentRuns (${maxRuns}); runs past the job's limit would only fail with ConcurrentRunsExceededException`,
    );
  const polling = d.polling ?? {};
  if ((polling.minSeconds ?? 15) > (polling.maxSeconds ?? 300))
    throw new ConfigError(`${at}/polling/minSeconds is above ${at}/polling/maxSeconds`);
  if ((d.debounce?.quietSeconds ?? 60) > (d.debounce?.maxWaitSeconds ?? 900))
    throw new ConfigError(`${at}/debounce/quietSeconds is above ${at}/debounce/maxWaitSeconds`);
}

function resolveDataset(config: SluiceConfig, d: DatasetConfig): ResolvedDataset {
  const prefix = `sluice-${config.stage}-${d.name.replace(/_/g, '-')}`;
  return {
    name: d.name,
    raw: {
      bucket: config.lake.rawBucket,
      prefix: d.raw.prefix,
      format: d.raw.format,
      nullValues: d.raw.nullValues ?? [''],
      timeZone: d.raw.timeZone ?? 'UTC',
    },
    partitioning: {
      style: d.partitioning.style,
      template: d.partitioning.template ?? d.partitioning.keys.map((k) => `${k.name}={${k.name}}`).join('/') + '/',
      keys: d.partitioning.keys,
    },
    crawler: {
      name: d.crawler?.name ?? `${prefix}-raw`,
      recrawl: d.crawler?.recrawl ?? 'new-folders-only',
      when: d.crawler?.when ?? 'schema-change',
    },
    job: {
      name: d.job?.name ?? `${prefix}-job`,
      maxConcurrentRuns: d.job?.maxConcurrentRuns ?? 10,
      timeoutMinutes: d.job?.timeoutMinutes ?? 60,
      partitionsPerRun: d.job?.partitionsPerRun ?? 'auto',
      maxBadRowsFraction: d.job?.maxBadRowsFraction ?? 0.01,
      missingColumns: d.job?.missingColumns ?? 'bad-rows',
      arguments: d.job?.arguments ?? {},
    },
    target: { bucket: config.lake.curatedBucket, ...d.target, folder: targetFolderOf(d.target.locationTemplate) },
    mapping: d.mapping,
    debounce: {
      quietSeconds: d.debounce?.quietSeconds ?? 60,
      maxWaitSeconds: d.debounce?.maxWaitSeconds ?? 900,
      maxClaimPartitions: d.debounce?.maxClaimPartitions ?? DEFAULT_MAX_CLAIM_PARTITIONS,
    },
    fanOut: { maxConcurrency: d.fanOut?.maxConcurrency ?? 10 },
    polling: {
      minSeconds: d.polling?.minSeconds ?? 15,
      maxSeconds: d.polling?.maxSeconds ?? 300,
      growth: d.polling?.growth ?? 0.25,
    },
    ...(d.freshnessSlaMinutes !== undefined ? { freshnessSlaMinutes: d.freshnessSlaMinutes } : {}),
    names: { arrivalRule: `${prefix}-arrivals` },
  };
}

/** Validates a parsed config document; throws ConfigError naming the first bad field. */
export function parseConfig(document: unknown, source = 'config'): ResolvedConfig {
  const config = validate<SluiceConfig>('SluiceConfig', structuredClone(document), source, ConfigError);
  const names = config.datasets.map((d) => d.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ConfigError(`${source}: dataset '${dup}' is declared twice`);
  const prefixes = config.datasets.map((d) => d.raw.prefix);
  prefixes.forEach((p, i) => {
    const overlap = prefixes.findIndex((q, j) => j !== i && q.startsWith(p));
    if (overlap >= 0)
      throw new ConfigError(
        `${source}: /datasets/${i}/raw/prefix '${p}' contains /datasets/${overlap}/raw/prefix '${prefixes[overlap]}'; a key must belong to one dataset`,
      );
  });
  config.datasets.forEach((d, i) => checkDataset(d, `${source}: /datasets/${i}`));
  const folders = config.datasets.map((d) => targetFolderOf(d.target.locationTemplate));
  folders.forEach((f, i) => {
    const overlap = folders.findIndex((g, j) => j !== i && g.startsWith(f));
    if (overlap >= 0)
      throw new ConfigError(
        `${source}: /datasets/${i}/target/locationTemplate folder '${f}' contains the folder '${folders[overlap]}' of /datasets/${overlap}; each dataset needs a folder of its own`,
      );
  });
  const resolved: ResolvedConfig = {
    stage: config.stage,
    region: config.region ?? 'eu-west-1',
    lake: config.lake,
    athena: {
      workgroup: config.athena?.workgroup ?? `sluice-${config.stage}`,
      partitionsPerStatement: config.athena?.partitionsPerStatement ?? 100,
      maxActiveDdl: config.athena?.maxActiveDdl ?? 10,
    },
    deploy: {
      ...(config.deploy?.alarmEmail ? { alarmEmail: config.deploy.alarmEmail } : {}),
      logRetentionDays: config.deploy?.logRetentionDays ?? 30,
      retainData: config.deploy?.retainData ?? false,
      ...(config.deploy?.catchUpSchedule ? { catchUpSchedule: config.deploy.catchUpSchedule } : {}),
      glueWorkerType: config.deploy?.glueWorkerType ?? 'G.1X',
      glueWorkers: config.deploy?.glueWorkers ?? 2,
    },
    datasets: config.datasets.map((d) => resolveDataset(config, d)),
    names: stageNames(config.stage),
  };
  checkNameLimits(resolved, source);
  return resolved;
}

/**
 * AWS's name limits for every name sluice derives. Each is checked when the config loads, so a long stage or
 * dataset name fails `sls package` (and every Lambda's start) naming the config field, not CloudFormation's
 * rollback an hour later. Sources (API references):
 * - EventBridge PutRule Name 1-64 [.-_A-Za-z0-9]: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html
 * - SQS CreateQueue QueueName up to 80: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
 * - S3 bucket names 3-63: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 * - Step Functions state machine and execution names 1-80:
 *   https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html,
 *   https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 * - Lambda function name up to 64: https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
 * - IAM role name up to 64, policy name up to 128: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
 * - Glue crawler, job, security configuration, database and table names 1-255:
 *   https://docs.aws.amazon.com/glue/latest/webapi/API_CreateCrawler.html, .../API_CreateJob.html
 * - DynamoDB table name 3-255: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html
 * - SNS topic name up to 256: https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
 * - CloudWatch alarm name up to 255: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
 * - CloudWatch Logs log group name up to 512: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
 * - KMS alias name up to 256: https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
 * - Athena workgroup name 1-128: https://docs.aws.amazon.com/athena/latest/APIReference/API_CreateWorkGroup.html
 */
export const NAME_LIMITS = {
  eventRule: { min: 1, max: 64, what: 'EventBridge rule name' },
  sqsQueue: { min: 1, max: 80, what: 'SQS queue name' },
  s3Bucket: { min: 3, max: 63, what: 'S3 bucket name' },
  stateMachine: { min: 1, max: 80, what: 'Step Functions state machine name' },
  execution: { min: 1, max: 80, what: 'Step Functions execution name' },
  lambdaFunction: { min: 1, max: 64, what: 'Lambda function name' },
  iamRole: { min: 1, max: 64, what: 'IAM role name' },
  iamPolicy: { min: 1, max: 128, what: 'IAM policy name' },
  glueName: { min: 1, max: 255, what: 'Glue resource name' },
  dynamoTable: { min: 3, max: 255, what: 'DynamoDB table name' },
  snsTopic: { min: 1, max: 256, what: 'SNS topic name' },
  alarm: { min: 1, max: 255, what: 'CloudWatch alarm name' },
  logGroup: { min: 1, max: 512, what: 'CloudWatch Logs log group name' },
  kmsAlias: { min: 1, max: 256, what: 'KMS alias name' },
  athenaWorkgroup: { min: 1, max: 128, what: 'Athena workgroup name' },
} as const;
export type NameKind = keyof typeof NAME_LIMITS;

/** Throws ConfigError naming the config field a derived name comes from when the name breaks its AWS limit. */
export function assertNameWithin(kind: NameKind, name: string, field: string): void {
  const { min, max, what } = NAME_LIMITS[kind];
  if (name.length < min || name.length > max)
    throw new ConfigError(
      `${field} makes the ${what} '${name}' ${name.length} characters long; AWS allows ${min}-${max}`,
    );
}

/** Longest AWS account id (12 digits), for names that embed ${AWS::AccountId}. */
const ACCOUNT_ID = '123456789012';

function stageNames(stage: string): StageNames {
  const service = `sluice-${stage}`;
  return {
    service,
    stateMachine: service,
    stateTable: `${service}-state`,
    failureTopic: `${service}-failures`,
    deadLetterQueue: `${service}-dead-letters`,
    recoveryQueue: `${service}-recovery-dead-letters`,
    executionStatusRule: `${service}-execution-ended-abnormally`,
    catchUpRule: `${service}-catch-up`,
    glueSecurityConfiguration: service,
    keyAlias: `alias/${service}`,
    rawDatabase: `sluice_${stage.replace(/-/g, '_')}_raw`,
    artifactsBucketTemplate: `${service}-artifacts-\${AWS::AccountId}-\${AWS::Region}`,
    lambda: (functionId) => `${service}-${functionId}`,
  };
}

function checkNameLimits(config: ResolvedConfig, source: string): void {
  const n = config.names;
  const stage = `${source}: /stage`;
  assertNameWithin('stateMachine', n.stateMachine, stage);
  assertNameWithin('dynamoTable', n.stateTable, stage);
  assertNameWithin('snsTopic', n.failureTopic, stage);
  assertNameWithin('sqsQueue', n.deadLetterQueue, stage);
  assertNameWithin('sqsQueue', n.recoveryQueue, stage);
  assertNameWithin('eventRule', n.executionStatusRule, stage);
  assertNameWithin('eventRule', n.catchUpRule, stage);
  assertNameWithin('glueName', n.glueSecurityConfiguration, stage);
  assertNameWithin('glueName', n.rawDatabase, stage);
  assertNameWithin('kmsAlias', n.keyAlias, stage);
  assertNameWithin(
    's3Bucket',
    n.artifactsBucketTemplate.replace('${AWS::AccountId}', ACCOUNT_ID).replace('${AWS::Region}', config.region),
    `${source}: /stage and /region`,
  );
  assertNameWithin('athenaWorkgroup', config.athena.workgroup, `${source}: /athena/workgroup (or /stage)`);
  config.datasets.forEach((d, i) => {
    const at = `${source}: /datasets/${i}`;
    assertNameWithin('eventRule', d.names.arrivalRule, `${at}/name`);
    assertNameWithin('glueName', d.crawler.name, `${at}/crawler/name (or /name)`);
    assertNameWithin('glueName', d.job.name, `${at}/job/name (or /name)`);
    // The longest trigger the intake and the run protocol use; the name is cut to fit, this guards the cut.
    assertNameWithin('execution', executionNameFor(d.name, new Date(0), 'follow-up'), `${at}/name`);
  });
}

export function loadConfigFile(path: string): ResolvedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${String(error)}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON: ${String(error)}`);
  }
  return parseConfig(document, path);
}

export function datasetNamed(config: ResolvedConfig, name: string): ResolvedDataset {
  const dataset = config.datasets.find((d) => d.name === name);
  if (!dataset)
    throw new UnknownDatasetError(
      `dataset '${name}' is not configured for stage '${config.stage}' (known: ${config.datasets.map((d) => d.name).join(', ')})`,
    );
  return dataset;
}
