/**
 * What invokes the functions: the per-dataset arrival rules (into the intake queue), the execution-status rule, the catch-up schedule,
 * their invoke permissions, and the queue policies that let EventBridge dead-letter into the two queues.
 */
import type { ResolvedDataset } from '../domain/config';
import { arn, functionLogicalId, pascal, ref, type Cfn, type Family } from './cfn';
import type { StackContext } from './context';
import { ASYNC_FUNCTIONS } from './functions';
import { INTAKE_QUEUE, QUEUES } from './state';

export const arrivalRuleId = (d: ResolvedDataset) => `ArrivalRule${pascal(d.name)}`;

export function triggers(ctx: StackContext): Family {
  const { config } = ctx;
  const names = config.names;
  const resources: Record<string, Cfn> = {};
  const rulesByQueue: Record<string, string[]> = { [QUEUES.intake]: [], [QUEUES.recovery]: [] };
  const rule = (logicalId: string, fn: string, properties: Cfn) => {
    const queue = ASYNC_FUNCTIONS[fn];
    if (!queue) throw new Error(`${fn} is invoked by a rule but has no on-failure queue in ASYNC_FUNCTIONS`);
    resources[logicalId] = {
      Type: 'AWS::Events::Rule',
      Properties: { ...properties, Targets: [eventTarget(fn, queue)] },
    };
    resources[`${logicalId}Permission`] = invokePermission(fn, logicalId);
    rulesByQueue[queue]?.push(logicalId);
  };

  // Arrivals go to the intake queue, which onArrivalBatch consumes in batches (issue 12); what EventBridge cannot
  // deliver to the queue goes to the intake's dead-letter queue, as before.
  const arrivalRules: string[] = [];
  for (const d of config.datasets) {
    resources[arrivalRuleId(d)] = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: d.names.arrivalRule,
        Description: `S3 Object Created under s3://${config.lake.rawBucket}/${d.raw.prefix} -> the intake queue`,
        EventPattern: {
          source: ['aws.s3'],
          'detail-type': ['Object Created'],
          detail: { bucket: { name: [config.lake.rawBucket] }, object: { key: [{ prefix: d.raw.prefix }] } },
        },
        Targets: [
          {
            Id: 'intakeQueue',
            Arn: arn(INTAKE_QUEUE),
            DeadLetterConfig: { Arn: arn(QUEUES.intake) },
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
          },
        ],
      },
    };
    arrivalRules.push(arrivalRuleId(d));
    rulesByQueue[QUEUES.intake]?.push(arrivalRuleId(d));
  }
  if (arrivalRules.length > 0)
    resources[`${INTAKE_QUEUE}Policy`] = queuePolicy(INTAKE_QUEUE, arrivalRules, 'EventBridgeArrivalRules');
  rule('ExecutionStatusRule', 'onExecutionStatusChange', {
    Name: names.executionStatusRule,
    Description:
      'Failed, timed-out or aborted executions -> onExecutionStatusChange (frees the lease, returns the claim)',
    EventPattern: {
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [ctx.stateMachineArn] },
    },
  });
  if (config.deploy.catchUpSchedule)
    rule('CatchUpRule', 'scheduleCatchUp', {
      Name: names.catchUpRule,
      Description: 'Starts a run for every dataset with pending arrivals and no active run',
      ScheduleExpression: config.deploy.catchUpSchedule,
    });

  for (const [queue, rules] of Object.entries(rulesByQueue))
    if (rules.length > 0) resources[`${queue}Policy`] = queuePolicy(queue, rules);
  return { resources };
}

function eventTarget(fn: string, deadLetterQueue: string): Cfn {
  return {
    Id: fn,
    Arn: arn(functionLogicalId(fn)),
    DeadLetterConfig: { Arn: arn(deadLetterQueue) },
    RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
  };
}

function invokePermission(fn: string, rule: string): Cfn {
  return {
    Type: 'AWS::Lambda::Permission',
    Properties: {
      Action: 'lambda:InvokeFunction',
      FunctionName: arn(functionLogicalId(fn)),
      Principal: 'events.amazonaws.com',
      SourceArn: arn(rule),
    },
  };
}

function queuePolicy(queue: string, rules: string[], sid = 'EventBridgeTargetsDeadLetters'): Cfn {
  return {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [ref(queue)],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: sid,
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: arn(queue),
            Condition: { ArnEquals: { 'aws:SourceArn': rules.map((r) => arn(r)) } },
          },
          {
            Sid: 'DenyInsecureTransport',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sqs:*',
            Resource: arn(queue),
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      },
    },
  };
}
