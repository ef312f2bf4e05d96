/**
 * The functions and their roles: every step Lambda and extra function, each with a role holding only what it
 * calls, on-failure destinations for the asynchronously invoked ones, and the intake's rejected-arrivals metric.
 */
import { MANIFEST_FOLDER } from '../domain/inputs';
import { rawTableName } from '../domain/drift';
import { STEP_FILES } from '../functions';
import { JOB_SUMMARY_PREFIX } from '../domain/rows';
import { allow, arn, listBucket, pascal, ref, serviceRole, sub, type Cfn, type Family, type Statement } from './cfn';
import type { StackContext } from './context';
import { INTAKE_CONSUMER_TIMEOUT_SECONDS, INTAKE_QUEUE, QUEUES } from './state';

/**
 * Extra functions beside the step Lambdas. The intake is onArrivalBatch (EventBridge -> intake queue -> it, issue
 * 12); replayDeadLetters is invoked by hand only (`sls invoke -f replayDeadLetters`), nothing triggers it.
 */
export const EXTRA_FUNCTIONS: Record<string, string> = {
  onArrivalBatch: 'functions/on-arrival-batch.handler',
  onExecutionStatusChange: 'functions/on-execution-status-change.handler',
  replayDeadLetters: 'functions/replay-dead-letters.handler',
  scheduleCatchUp: 'functions/schedule-catch-up.handler',
};

/**
 * Functions that AWS invokes asynchronously (EventBridge rules, schedules), and the queue their failed events go
 * to. Lambda retries an asynchronous event twice, then discards it unless an on-failure destination is set:
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 */
export const ASYNC_FUNCTIONS: Record<string, string> = {
  onExecutionStatusChange: QUEUES.recovery,
  scheduleCatchUp: QUEUES.recovery,
};

/** The batch files and their results (domain/steps/jobs.ts jobBatchLocation): runs/<machine>/<execution>/batches/. */
export const BATCH_FOLDERS = 'runs/*/batches/';

export const roleId = (fn: string) => `${pascal(fn)}Role`;

/** The live intake: the function that logs rejected arrivals (the metric filter reads its log group). */
export const INTAKE_FUNCTION = 'onArrivalBatch';

export const REPLAY_DESCRIPTION =
  'Invoked by hand only (sls invoke -f replayDeadLetters --stage <stage>): replays the intake dead-letter queue ' +
  'through the intake after an outage. No event source or schedule invokes it.';

/** A function's role: its own log stream, X-Ray, and `statements` (what its code calls). */
export function lambdaRole(ctx: StackContext, name: string, statements: Statement[]): Cfn {
  return serviceRole('lambda.amazonaws.com', name, [
    allow(
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      [
        sub(
          `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${ctx.config.names.lambda(name)}:*`,
        ),
      ],
    ),
    allow(['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], ['*']),
    ...statements,
  ]);
}

export function functionsAndRoles(ctx: StackContext): Family {
  const needs = permissions(ctx);
  const handlers: Record<string, string> = { ...STEP_FILES, ...EXTRA_FUNCTIONS };
  const resources: Record<string, Cfn> = {};
  const functions: Record<string, Cfn> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    const statements = needs[name];
    if (!statements) throw new Error(`no IAM statements declared for function ${name}`);
    resources[roleId(name)] = lambdaRole(ctx, name, statements);
    const failureQueue = ASYNC_FUNCTIONS[name];
    functions[name] = {
      handler,
      role: roleId(name),
      ...(failureQueue
        ? { destinations: { onFailure: { type: 'sqs', arn: arn(failureQueue) } }, maximumRetryAttempts: 2 }
        : {}),
      ...(name === 'replayDeadLetters' ? { timeout: 300, description: REPLAY_DESCRIPTION } : {}),
      // Issue 23: a TIMED_OUT run's registration waits for its DDL queries here.
      ...(name === 'onExecutionStatusChange' ? { timeout: 300 } : {}),
      ...(name === 'onArrivalBatch' ? intakeConsumer() : {}),
      // Issue 24: the drift step lists and reads many small ranges; it stops reading at 35 s (DRIFT_READ_BUDGET_MS).
      ...(name === 'checkSchemas' ? { timeout: 50, memorySize: 512 } : {}),
      // Issue 12: the summary reads every ResultWriter record (~1 KB per partition, 100 MB at 100,000).
      ...(name === 'summarizeJobRuns' ? { memorySize: 1024 } : {}),
      // Issue 23: the plan step reads the run's whole partition list (up to 1,000,000 by range) and plans it.
      ...(name === 'planJobRuns' ? { memorySize: 1024 } : {}),
    };
  }
  resources.RejectedArrivalsMetricFilter = rejectedArrivalsMetric(ctx, INTAKE_FUNCTION);
  return { resources, functions };
}

/**
 * The intake queue's consumer (issue 12): batches of up to 1,000 events or 5 s, only failed records come back
 * (ReportBatchItemFailures), at most 5 concurrent batches so the per-partition items stay cool. Sources:
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html (partial batch responses),
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html (batch size up to 10,000 with a window).
 */
function intakeConsumer(): Cfn {
  return {
    timeout: INTAKE_CONSUMER_TIMEOUT_SECONDS,
    memorySize: 512,
    environment: { SLUICE_INTAKE_DLQ_URL: ref(QUEUES.intake) },
    events: [
      {
        sqs: {
          arn: arn(INTAKE_QUEUE),
          batchSize: 1000,
          maximumBatchingWindow: 5,
          functionResponseType: 'ReportBatchItemFailures',
          maximumConcurrency: 5,
        },
      },
    ],
  };
}

/** What each function's code calls, resource by resource; a deploy test checks this covers every SDK command. */
function permissions(ctx: StackContext): Record<string, Statement[]> {
  const { config } = ctx;
  const crawlers = config.datasets.map((d) => ctx.glueArn('crawler', d.crawler.name));
  const jobs = config.datasets.map((d) => ctx.glueArn('job', d.job.name));
  const workgroupArn = sub(
    `arn:\${AWS::Partition}:athena:\${AWS::Region}:\${AWS::AccountId}:workgroup/${config.athena.workgroup}`,
  );
  const targetTables = config.datasets.map((d) => ctx.glueArn('table', `${d.target.database}/${d.target.table}`));
  const targetDatabases = [...new Set(config.datasets.map((d) => ctx.glueArn('database', d.target.database)))];
  // Athena partition DDL (ALTER TABLE ADD PARTITION): the catalog calls it makes on the target tables, and its
  // results folder. The registration step and the TIMED_OUT path (which registers what was converted) both run it.
  const partitionDdl = [
    allow(
      [
        'glue:GetDatabase',
        'glue:GetTable',
        'glue:GetPartition',
        'glue:GetPartitions',
        'glue:BatchCreatePartition',
        'glue:CreatePartition',
      ],
      [ctx.catalogArn, ...targetDatabases, ...targetTables],
    ),
    allow(['s3:GetBucketLocation', 's3:ListBucket'], [ctx.artifactsArn]),
    allow(['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'], [ctx.artifactsObjects('athena-results/')]),
  ];
  const table = (actions: string[]) =>
    allow(
      actions.map((a) => `dynamodb:${a}`),
      [ctx.tableArn],
    );
  const startExecution = allow(['states:StartExecution'], [ctx.stateMachineArn]);
  // Map runs: arn:…:mapRun:<state machine>/<label>:<id> (DescribeMapRun, ListExecutions by map run).
  const mapRunArns = sub(
    `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:mapRun:${config.names.stateMachine}/*`,
  );
  // Lease, claims and arrivals change together in TransactWriteItems (docs/protocol.md). A transaction has no IAM
  // action of its own: each action in it is authorized as PutItem, UpdateItem, DeleteItem or ConditionCheckItem
  // (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
  const transactional = ['PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'];
  const leaseAndClaims = table(['GetItem', ...transactional, 'Query']);
  const ledgerAndLease = table(['GetItem', ...transactional, 'Query']);
  const rawPrefixes = config.datasets.map((d) => d.raw.prefix);
  const rawDatabase = config.names.rawDatabase;
  const rawTables = [
    ctx.catalogArn,
    ctx.glueArn('database', rawDatabase),
    ...config.datasets.map((d) => ctx.glueArn('table', `${rawDatabase}/${rawTableName(d.raw.prefix)}`)),
  ];
  const sendTo = (queue: string) => allow(['sqs:SendMessage'], [arn(queue)]);
  // Key resolution: one HeadObject decides which form of an ambiguous key exists. HEAD needs s3:GetObject, and
  // answers 404 (not 403) for a missing key only with s3:ListBucket:
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
  // The intake never lists, so it gets the existence-check grant only (cfn.ts listBucket).
  const headRawObjects = [
    allow(
      ['s3:GetObject'],
      rawPrefixes.map((p) => ctx.s3Objects(config.lake.rawBucket, p)),
    ),
    ...listBucket(ctx.s3Bucket(config.lake.rawBucket), { existenceChecks: true }),
  ];
  // Issue 12: run artifacts by reference under runs/ of the artifacts bucket (SSE-KMS). prepareRun also reads
  // manifests under manifests/ (and the failed-partitions objects under runs/); ListBucket on those folders makes a
  // missing one NoSuchKey instead of AccessDenied (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html),
  // so the error names it.
  const runArtifacts = [allow(['s3:GetObject', 's3:PutObject'], [ctx.artifactsObjects('runs/')]), ctx.kmsUse];
  const readRunArtifacts = [allow(['s3:GetObject'], [ctx.artifactsObjects('runs/')]), ctx.kmsUse];
  // Issue 15: the row summary a SUCCEEDED job run wrote (domain/rows/job-summary.ts), read by the step that sees it end
  // (check, or start when it attaches to a finished run). GetObject on that prefix only; ListBucket on it so a missing
  // summary is NoSuchKey (JobSummaryMissingError), not AccessDenied (API_GetObject.html, as above).
  const readJobSummaries = [
    allow(['s3:GetObject'], [ctx.artifactsObjects(JOB_SUMMARY_PREFIX)]),
    ...listBucket(ctx.artifactsArn, { existenceChecks: true }),
    ctx.kmsUse,
  ];
  const listRawPrefixes = listBucket(ctx.s3Bucket(config.lake.rawBucket), { folders: rawPrefixes });
  // The start step may attach to a finished batch run: then it reads its result and writes its partitions' results.
  const batchFiles = allow(['s3:GetObject', 's3:PutObject'], [ctx.artifactsObjects(BATCH_FOLDERS)]);
  return {
    prepareRun: [
      leaseAndClaims,
      ...runArtifacts,
      allow(['s3:GetObject'], [ctx.artifactsObjects(MANIFEST_FOLDER)]),
      ...listBucket(ctx.artifactsArn, { existenceChecks: true }),
      // Issue 23: a manual run's time budget sizes its partitions as the plan step does (their raw prefixes).
      ...listRawPrefixes,
    ],
    claimArrivals: [leaseAndClaims, ...runArtifacts],
    // Issue 24: the partitions' files (list with the datasets' prefixes, ranged GETs of their heads and footers),
    // the crawled raw table, the fingerprint items (GetItem after a lost conditional put), the two drift lists.
    checkSchemas: [
      ...listBucket(ctx.s3Bucket(config.lake.rawBucket), { folders: rawPrefixes }),
      allow(
        ['s3:GetObject'],
        rawPrefixes.map((p) => ctx.s3Objects(config.lake.rawBucket, p)),
      ),
      allow(['glue:GetTable'], rawTables),
      table(['Query', 'PutItem', 'GetItem']),
      ...runArtifacts,
    ],
    checkCrawledSchema: [allow(['glue:GetTable'], rawTables), table(['Query', 'UpdateItem'])],
    startCrawler: [allow(['glue:GetCrawler', 'glue:StartCrawler'], crawlers)],
    checkCrawler: [allow(['glue:GetCrawler'], crawlers)],
    // Issue 23 (docs/batches.md): the plan step lists each partition's raw prefix (its bytes) and writes the batch
    // files and the Map's item list under runs/; the start step reads a batch file; the check step reads it and the
    // run's result beside it, and writes the partitions' results there.
    planJobRuns: [...runArtifacts, ...listRawPrefixes],
    startJobRun: [allow(['glue:GetJobRuns', 'glue:StartJobRun'], jobs), ...readJobSummaries, batchFiles],
    checkJobRun: [allow(['glue:GetJobRun'], jobs), ...readJobSummaries, batchFiles],
    summarizeJobRuns: runArtifacts,
    startPartitionRefresh: [
      allow(['athena:StartQueryExecution'], [workgroupArn]),
      ...partitionDdl,
      allow(['s3:GetObject'], [ctx.artifactsObjects('runs/')]),
      ctx.kmsUse,
    ],
    checkPartitionRefresh: [allow(['athena:GetQueryExecution'], [workgroupArn])],
    notifyFailure: [
      allow(['sns:Publish'], [ref('RunFailureTopic')]),
      ctx.kmsUse,
      // The run's cost so far in the notification (adapters/operate/run-cost.ts): its history and its map's
      // children, its dataset's job runs and crawls, its registration queries.
      allow(['states:GetExecutionHistory', 'states:ListMapRuns'], [ctx.executionArns, ctx.mapRunExecutionArns]),
      allow(['states:DescribeMapRun', 'states:ListExecutions'], [mapRunArns]),
      allow(['glue:GetJobRuns'], jobs),
      allow(['glue:ListCrawls'], crawlers),
      allow(['athena:BatchGetQueryExecution'], [workgroupArn]),
    ],
    releaseLease: [leaseAndClaims, startExecution, ...readRunArtifacts],
    // The batched intake: markers are read in batches; poison goes to the intake's dead-letter queue with its reason.
    onArrivalBatch: [
      table(['GetItem', 'BatchGetItem', ...transactional, 'Query']),
      startExecution,
      sendTo(QUEUES.intake),
      allow(
        ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
        [arn(INTAKE_QUEUE)],
      ),
      ...headRawObjects,
    ],
    // Issue 23: a TIMED_OUT run's converted partitions (the claim's list under runs/, the job summaries) are
    // registered by this handler (Athena DDL, as startPartitionRefresh; GetQueryExecution to wait), and it notifies.
    onExecutionStatusChange: [
      leaseAndClaims,
      startExecution,
      sendTo(QUEUES.recovery),
      allow(['athena:StartQueryExecution', 'athena:GetQueryExecution'], [workgroupArn]),
      ...partitionDdl,
      allow(['s3:GetObject'], [ctx.artifactsObjects('runs/'), ctx.artifactsObjects(JOB_SUMMARY_PREFIX)]),
      allow(['sns:Publish'], [ref('RunFailureTopic')]),
      ctx.kmsUse,
    ],
    // Replays dead letters through the single-event intake (domain/intake/arrival.ts).
    replayDeadLetters: [
      ledgerAndLease,
      startExecution,
      ...headRawObjects,
      allow(['sqs:ReceiveMessage', 'sqs:DeleteMessage'], [arn(QUEUES.intake)]),
    ],
    scheduleCatchUp: [leaseAndClaims, startExecution, sendTo(QUEUES.recovery)],
  };
}

/**
 * Rejected arrivals are logged by the intake with metric "RejectedArrivals"; this turns those lines into a count.
 * DefaultValue and Dimensions are mutually exclusive in a metric transformation (CloudFormation rejects both:
 * "dimensions and default value are mutually exclusive"; see DefaultValue in
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-logs-metricfilter-metrictransformation.html
 * and the provider docs that mark them as conflicting). The default 0 keeps alarms on it meaningful in quiet
 * periods, so the stage goes into the namespace instead of a dimension.
 */
function rejectedArrivalsMetric(ctx: StackContext, fn: string): Cfn {
  return {
    Type: 'AWS::Logs::MetricFilter',
    DependsOn: [`${pascal(fn)}LogGroup`],
    Properties: {
      LogGroupName: `/aws/lambda/${ctx.config.names.lambda(fn)}`,
      FilterPattern: '{ $.metric = "RejectedArrivals" }',
      MetricTransformations: [
        { MetricNamespace: `sluice/${ctx.stage}`, MetricName: 'RejectedArrivals', MetricValue: '1', DefaultValue: 0 },
      ],
    },
  };
}
