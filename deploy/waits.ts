/**
 * Waits completed by events (issue 13): the await functions, the completion function and the EventBridge rules
 * that invoke it, the fallback re-check queue and its consumer, their dead-letter queues and alarms.
 *
 * The ASL's crawler, job-run and Athena waits are `.waitForTaskToken` Tasks that invoke the await functions; the
 * state machine role may invoke them (deploy/state-machine.ts).
 *
 * Events are AWS service events on the default bus, delivered best effort:
 * https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-glue.html,
 * https://docs.aws.amazon.com/athena/latest/ug/athena-events.html. Glue job states in events: SUCCEEDED, FAILED,
 * TIMEOUT, STOPPED; crawler: Started, Succeeded, Failed
 * (https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html).
 */
import { assertNameWithin } from '../domain/config';
import { AWAIT_STEP_FILES } from '../functions';
import { JOB_SUMMARY_PREFIX } from '../domain/rows';
import { allow, arn, functionLogicalId, listBucket, ref, sub, type Cfn, type Family, type Statement } from './cfn';
import type { StackContext } from './context';
import { BATCH_FOLDERS, lambdaRole, roleId } from './functions';
import { queueDepthAlarm } from './state';

export const WAIT_FUNCTIONS: Record<string, string> = {
  ...AWAIT_STEP_FILES,
  completeWait: 'functions/complete-wait.handler',
  recheckWait: 'functions/recheck-wait.handler',
};

const EVENTS_DLQ = 'WaitEventsDeadLetterQueue';
const RECHECKS = 'WaitRecheckQueue';
const RECHECKS_DLQ = 'WaitRecheckDeadLetterQueue';
/** The re-check consumer's timeout; the queue's visibility timeout is six times it (Lambda's advice for SQS). */
const RECHECK_TIMEOUT_SECONDS = 30;

export function waits(ctx: StackContext): Family {
  const { config } = ctx;
  const service = config.names.service;
  const name = (kind: Parameters<typeof assertNameWithin>[0], value: string): string => {
    assertNameWithin(kind, value, '/stage');
    return value;
  };
  const jobs = config.datasets.map((d) => ctx.glueArn('job', d.job.name));
  const crawlers = config.datasets.map((d) => ctx.glueArn('crawler', d.crawler.name));
  const workgroup = sub(
    `arn:\${AWS::Partition}:athena:\${AWS::Region}:\${AWS::AccountId}:workgroup/${config.athena.workgroup}`,
  );
  const table = (actions: string[]) =>
    allow(
      actions.map((a) => `dynamodb:${a}`),
      [ctx.tableArn],
    );
  // Every wait function reaches the three Check cores (deliver -> runCheck), so each may make the three reads.
  // The job-run check reads the row summary a SUCCEEDED run wrote (issue 15, domain/rows/job-summary.ts), as the Check
  // step does: GetObject on that prefix, ListBucket on it so a missing one is NoSuchKey, not AccessDenied
  // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
  const checks: Statement[] = [
    allow(['glue:GetJobRun'], jobs),
    allow(['glue:GetCrawler'], crawlers),
    allow(['athena:GetQueryExecution'], [workgroup]),
    allow(['s3:GetObject'], [ctx.artifactsObjects(JOB_SUMMARY_PREFIX)]),
    // Issue 23: a batch run's check reads its batch file and result and writes its partitions' results beside them.
    allow(['s3:GetObject', 's3:PutObject'], [ctx.artifactsObjects(BATCH_FOLDERS)]),
    ...listBucket(ctx.artifactsArn, { existenceChecks: true }),
    ctx.kmsUse,
  ];
  // SendTaskSuccess/Failure/Heartbeat have no resource type in the Service Authorization Reference, which means
  // "Resource": "*" (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html);
  // the task token is the credential. A grant on the state machine's ARNs may not cover the tokens of Distributed
  // Map child executions, whose ARNs carry the map run's label (…:stateMachine:<name>/<label>:
  // https://docs.aws.amazon.com/step-functions/latest/dg/concepts-examine-map-run.html), and `execution:<name>*`
  // also matched another stage whose name starts with this one's.
  const answer = allow(['states:SendTaskSuccess', 'states:SendTaskFailure'], ['*']);
  const sendRecheck = allow(['sqs:SendMessage'], [arn(RECHECKS)]);
  // GetItem: a refresh's delivery reads the other queries' `finalAt` marks (issue 23, domain/waits/completion.ts).
  const awaitStatements = [...checks, table(['PutItem', 'UpdateItem', 'GetItem']), answer, sendRecheck];
  const statements: Record<string, Statement[]> = {
    awaitJobRun: awaitStatements,
    awaitCrawler: awaitStatements,
    awaitPartitionRefresh: awaitStatements,
    completeWait: [
      ...checks,
      table(['Query', 'UpdateItem', 'GetItem']),
      answer,
      allow(['sqs:SendMessage'], [arn(EVENTS_DLQ)]),
    ],
    recheckWait: [
      ...checks,
      table(['GetItem', 'UpdateItem']),
      allow(['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'], ['*']),
      sendRecheck,
      allow(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], [arn(RECHECKS)]),
    ],
  };

  const resources: Record<string, Cfn> = {};
  const functions: Record<string, Cfn> = {};
  for (const [fn, handler] of Object.entries(WAIT_FUNCTIONS)) {
    resources[roleId(fn)] = lambdaRole(ctx, fn, statements[fn] ?? []);
    functions[fn] = {
      handler,
      role: roleId(fn),
      environment: { SLUICE_RECHECK_QUEUE_URL: ref(RECHECKS) },
      ...(fn === 'completeWait'
        ? { destinations: { onFailure: { type: 'sqs', arn: arn(EVENTS_DLQ) } }, maximumRetryAttempts: 2 }
        : {}),
      ...(fn === 'recheckWait'
        ? {
            timeout: RECHECK_TIMEOUT_SECONDS,
            events: [{ sqs: { arn: arn(RECHECKS), batchSize: 10, functionResponseType: 'ReportBatchItemFailures' } }],
          }
        : {}),
    };
  }

  Object.assign(
    resources,
    queue(EVENTS_DLQ, name('sqsQueue', `${service}-wait-dead-letters`)),
    alarmOnQueue(
      EVENTS_DLQ,
      name('alarm', `${service}-wait-events-not-completed`),
      'A Glue/Athena state-change event could not be handled: its wait completes by the fallback re-check; ' +
        'fix the cause (completeWait logs) and discard the messages.',
    ),
    queue(RECHECKS_DLQ, name('sqsQueue', `${service}-wait-recheck-dead-letters`)),
    alarmOnQueue(
      RECHECKS_DLQ,
      name('alarm', `${service}-wait-rechecks-failing`),
      'Fallback re-checks keep failing: waits whose event was lost now rely on the state machine heartbeat (30 min).',
    ),
    {
      [RECHECKS]: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: name('sqsQueue', `${service}-wait-rechecks`),
          VisibilityTimeout: 6 * RECHECK_TIMEOUT_SECONDS,
          MessageRetentionPeriod: 4 * 86_400,
          SqsManagedSseEnabled: true,
          RedrivePolicy: { deadLetterTargetArn: arn(RECHECKS_DLQ), maxReceiveCount: 5 },
        },
      },
    },
  );

  const rules: Array<[string, string, string, Cfn]> = [
    [
      'WaitGlueJobRule',
      `${service}-wait-glue-jobs`,
      'Glue Job State Change of this stage’s jobs -> completeWait',
      {
        source: ['aws.glue'],
        'detail-type': ['Glue Job State Change'],
        detail: {
          jobName: config.datasets.map((d) => d.job.name),
          state: ['SUCCEEDED', 'FAILED', 'TIMEOUT', 'STOPPED', 'ERROR'],
        },
      },
    ],
    [
      'WaitGlueCrawlerRule',
      `${service}-wait-crawlers`,
      'Glue Crawler State Change (end of a crawl) of this stage’s crawlers -> completeWait',
      {
        source: ['aws.glue'],
        'detail-type': ['Glue Crawler State Change'],
        detail: { crawlerName: config.datasets.map((d) => d.crawler.name), state: ['Succeeded', 'Failed'] },
      },
    ],
    [
      'WaitAthenaQueryRule',
      `${service}-wait-athena`,
      'Athena Query State Change (final) in this stage’s workgroup -> completeWait',
      {
        source: ['aws.athena'],
        'detail-type': ['Athena Query State Change'],
        detail: { workgroupName: [config.athena.workgroup], currentState: ['SUCCEEDED', 'FAILED', 'CANCELLED'] },
      },
    ],
  ];
  for (const [logicalId, ruleName, description, pattern] of rules) {
    resources[logicalId] = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: name('eventRule', ruleName),
        Description: description,
        EventPattern: pattern,
        Targets: [
          {
            Id: 'completeWait',
            Arn: arn(functionLogicalId('completeWait')),
            DeadLetterConfig: { Arn: arn(EVENTS_DLQ) },
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
          },
        ],
      },
    };
    resources[`${logicalId}Permission`] = {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: arn(functionLogicalId('completeWait')),
        Principal: 'events.amazonaws.com',
        SourceArn: arn(logicalId),
      },
    };
  }
  resources[`${EVENTS_DLQ}Policy`] = {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [ref(EVENTS_DLQ)],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'EventBridgeTargetsDeadLetters',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: arn(EVENTS_DLQ),
            Condition: { ArnEquals: { 'aws:SourceArn': rules.map(([id]) => arn(id)) } },
          },
        ],
      },
    },
  };
  for (const fn of ['completeWait', 'recheckWait'])
    resources[`${fn.charAt(0).toUpperCase()}${fn.slice(1)}ErrorsAlarm`] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: name('alarm', `${service}-${fn}-errors`),
        AlarmDescription: `${fn} failed; waits fall back to re-checks (or the state machine heartbeat).`,
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: ref(functionLogicalId(fn)) }],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [ref('FailureTopic')],
      },
    };
  return { resources, functions, outputs: { WaitRecheckQueueUrl: { Value: ref(RECHECKS) } } };
}

function queue(logicalId: string, queueName: string): Record<string, Cfn> {
  return {
    [logicalId]: {
      Type: 'AWS::SQS::Queue',
      Properties: { QueueName: queueName, MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true },
    },
  };
}

function alarmOnQueue(queueId: string, alarmName: string, description: string): Record<string, Cfn> {
  return queueDepthAlarm(queueId, `${queueId}Alarm`, alarmName, description);
}
