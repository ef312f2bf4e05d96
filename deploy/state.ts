/** State table and queues: the DynamoDB ledger of arrivals and leases, the failure topic, the intake queue, the dead-letter queues. */
import { assertNameWithin } from '../domain/config';
import { allow, arn, ref, serviceRole, type Cfn, type Family } from './cfn';
import type { StackContext } from './context';

/**
 * The intake queue (issue 12): EventBridge puts every S3 "Object Created" event here and onArrivalBatch takes them
 * in batches. Visibility timeout at least six times the consumer's timeout, as Lambda advises for SQS sources
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html); after 5 receives a message goes to
 * the intake's dead-letter queue, which keeps messages longer than this queue does.
 */
export const INTAKE_QUEUE = 'IntakeQueue';
export const INTAKE_CONSUMER_TIMEOUT_SECONDS = 30;
export const INTAKE_MAX_RECEIVES = 5;

/** The two dead-letter queues: what each holds decides how it is replayed. */
export const QUEUES = {
  /** Arrivals the intake could not take (the arrival rules' EventBridge target DLQ and the intake queue's redrive). */
  intake: 'DeadLetterQueue',
  /**
   * Self-healing events that could not be handled: execution status changes (a dead run's lease and claim) and
   * catch-up ticks. Kept apart because replayDeadLetters feeds its queue through the intake, which would reject them.
   */
  recovery: 'RecoveryQueue',
} as const;

export function stateTableAndQueues(ctx: StackContext): Family {
  const { config } = ctx;
  const names = config.names;
  const resources: Record<string, Cfn> = {
    StateTable: {
      Type: 'AWS::DynamoDB::Table',
      ...ctx.dataPolicies,
      Properties: {
        TableName: names.stateTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    },
    FailureTopic: {
      Type: 'AWS::SNS::Topic',
      Properties: {
        TopicName: names.failureTopic,
        KmsMasterKeyId: ref('SluiceKey'),
        ...(ctx.alarmEmail ? { Subscription: [{ Protocol: 'email', Endpoint: ctx.alarmEmail }] } : {}),
      },
    },
    ...runFailureNotifications(ctx),
    ...queueWithAlarm(
      QUEUES.intake,
      'DeadLetterAlarm',
      names.deadLetterQueue,
      `${names.service}-dead-letters-not-empty`,
      'Events the intake could not take are waiting: fix the cause, then invoke replayDeadLetters.',
    ),
    [INTAKE_QUEUE]: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: intakeQueueName(names.service),
        VisibilityTimeout: 6 * INTAKE_CONSUMER_TIMEOUT_SECONDS,
        MessageRetentionPeriod: 345_600,
        ReceiveMessageWaitTimeSeconds: 20,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: arn(QUEUES.intake), maxReceiveCount: INTAKE_MAX_RECEIVES },
      },
    },
    IntakeBacklogAlarm: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: `${names.service}-intake-falling-behind`,
        AlarmDescription:
          'The oldest S3 event in the intake queue is over 5 minutes old: the intake is falling behind.',
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [INTAKE_QUEUE, 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 5,
        Threshold: 300,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [ref('FailureTopic')],
      },
    },
    ...queueWithAlarm(
      QUEUES.recovery,
      'RecoveryQueueAlarm',
      names.recoveryQueue,
      `${names.service}-recovery-dead-letters-not-empty`,
      'A run-status change or catch-up tick was not handled, so a dead run may still hold its lease: fix the cause, ' +
        'then re-invoke the function named in each message with its requestPayload (see docs/first-deploy.md).',
    ),
  };
  return {
    resources,
    outputs: {
      FailureTopicArn: { Value: ref('FailureTopic') },
      RunFailureTopicArn: { Value: ref(RUN_FAILURES.topic) },
      RunFailureQueueUrl: { Value: ref(RUN_FAILURES.queue) },
      DeadLetterQueueUrl: { Value: ref(QUEUES.intake) },
      IntakeQueueUrl: { Value: ref(INTAKE_QUEUE) },
      RecoveryQueueUrl: { Value: ref(QUEUES.recovery) },
    },
  };
}

/**
 * Run failure notifications, exactly one per failed run (issue 21, defect 8; invariant I6 in docs/protocol.md).
 *
 * The notify step is a Lambda behind a Retry: when it times out after SNS accepted its Publish, the retry publishes
 * again. A standard topic cannot tell the two apart, so the step publishes to a FIFO topic with
 * MessageDeduplicationId derived from the execution ARN: "subsequent messages within the deduplication scope and
 * interval, with the same MessageDeduplicationId, are accepted successfully but aren't delivered" (5-minute
 * minimum interval; https://docs.aws.amazon.com/sns/latest/api/API_Publish.html). The step's retries all fall
 * within that window (state machine: notify's Retry, and adapters/aws/sns.ts).
 *
 * FIFO topics deliver to SQS queues only, not to e-mail (https://docs.aws.amazon.com/sns/latest/dg/fifo-message-delivery.html;
 * CloudWatch alarms cannot publish to them either), so the standard FailureTopic stays for the alarms and the
 * stage's e-mail subscription, and a pipe forwards each run failure from the FIFO queue to it: on-call keeps
 * getting the full report by e-mail. The FIFO queue holds each notification once (SNS FIFO to SQS FIFO delivery is
 * deduplicated end to end); the e-mail copy has SNS standard delivery's at-least-once guarantee, which no
 * publisher can improve on. docs/first-deploy.md lists what only a real account can check.
 */
export const RUN_FAILURES = { topic: 'RunFailureTopic', queue: 'RunFailureQueue', pipe: 'RunFailureMailPipe' } as const;

function runFailureNotifications(ctx: StackContext): Record<string, Cfn> {
  const base = ctx.config.names.failureTopic;
  const topicName = `${base}-runs.fifo`;
  const queueName = `${base}-runs.fifo`;
  assertNameWithin('snsTopic', topicName, '/stage');
  assertNameWithin('sqsQueue', queueName, '/stage');
  return {
    [RUN_FAILURES.topic]: {
      Type: 'AWS::SNS::Topic',
      Properties: {
        TopicName: topicName,
        FifoTopic: true,
        // The publisher always names the deduplication id (the execution); content-based would make two
        // different failures of one run with the same text one.
        ContentBasedDeduplication: false,
        KmsMasterKeyId: ref('SluiceKey'),
      },
    },
    [RUN_FAILURES.queue]: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: queueName,
        FifoQueue: true,
        MessageRetentionPeriod: 1_209_600,
        SqsManagedSseEnabled: true,
      },
    },
    RunFailureQueuePolicy: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [ref(RUN_FAILURES.queue)],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'sns.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: arn(RUN_FAILURES.queue),
              Condition: { ArnEquals: { 'aws:SourceArn': ref(RUN_FAILURES.topic) } },
            },
          ],
        },
      },
    },
    RunFailureSubscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        TopicArn: ref(RUN_FAILURES.topic),
        Protocol: 'sqs',
        Endpoint: arn(RUN_FAILURES.queue),
        // The queue holds the report text itself, as e-mail shows it.
        RawMessageDelivery: true,
      },
    },
    RunFailureMailRole: serviceRole('pipes.amazonaws.com', 'forward-run-failures', [
      allow(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], [arn(RUN_FAILURES.queue)]),
      allow(['sns:Publish'], [ref('FailureTopic')]),
      ctx.kmsUse,
    ]),
    [RUN_FAILURES.pipe]: {
      Type: 'AWS::Pipes::Pipe',
      Properties: {
        Description: 'Forwards each run failure notification (FIFO, one per failed run) to the e-mail topic',
        RoleArn: arn('RunFailureMailRole'),
        Source: arn(RUN_FAILURES.queue),
        SourceParameters: { SqsQueueParameters: { BatchSize: 1 } },
        Target: ref('FailureTopic'),
        // The SQS record's body is the report text (raw delivery above).
        TargetParameters: { InputTemplate: '<$.body>' },
      },
    },
  };
}

function intakeQueueName(service: string): string {
  const name = `${service}-intake`;
  assertNameWithin('sqsQueue', name, '/stage');
  return name;
}

function queueWithAlarm(logicalId: string, alarmId: string, name: string, alarmName: string, description: string) {
  return {
    [logicalId]: {
      Type: 'AWS::SQS::Queue',
      Properties: { QueueName: name, MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true },
    },
    ...queueDepthAlarm(logicalId, alarmId, alarmName, description),
  };
}

/** An alarm to the failure topic as soon as the queue holds a message: for dead-letter queues, where any is news. */
export function queueDepthAlarm(queueId: string, alarmId: string, alarmName: string, description: string) {
  return {
    [alarmId]: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: alarmName,
        AlarmDescription: description,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [ref('FailureTopic')],
      },
    },
  };
}
