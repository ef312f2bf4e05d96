/** The state machine: its role, its log group, and the ASL file with Lambda placeholders bound to this stack. */
import { AWAIT_STEP_FILES, STEP_FILES } from '../functions';
import { allow, arn, functionLogicalId, serviceRole, type Cfn, type Family } from './cfn';
import type { StackContext } from './context';

export function stateMachine(ctx: StackContext): Family {
  // The Task steps, and the await steps the `.waitForTaskToken` Tasks invoke (issue 13).
  const stepFunctionArns = [...Object.keys(STEP_FILES), ...Object.keys(AWAIT_STEP_FILES)].flatMap((name) => [
    arn(functionLogicalId(name)),
    { 'Fn::Join': [':', [arn(functionLogicalId(name)), '*']] },
  ]);
  return {
    resources: {
      StateMachineLogGroup: {
        Type: 'AWS::Logs::LogGroup',
        Properties: {
          LogGroupName: `/aws/vendedlogs/states/${ctx.service}`,
          RetentionInDays: ctx.config.deploy.logRetentionDays,
        },
      },
      StateMachineRole: serviceRole('states.amazonaws.com', 'state-machine', [
        allow(['lambda:InvokeFunction'], stepFunctionArns),
        // Distributed Map: child executions of this state machine, and redrive of them.
        allow(['states:StartExecution'], [ctx.stateMachineArn]),
        allow(
          ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution'],
          [ctx.executionArns, ctx.mapRunExecutionArns],
        ),
        // Issue 12: the Distributed Map reads its items (ItemReader, s3:getObject) and exports its results
        // (ResultWriter, s3:putObject) under runs/ of the artifacts bucket. The actions are what AWS's CDK grants
        // for them (aws-cdk-lib aws-stepfunctions distributed-map result-writer.ts providePolicyStatements: PutObject,
        // GetObject, ListMultipartUploadParts, AbortMultipartUpload on the bucket's objects; the S3 JSON item reader
        // grants GetObject), scoped to the run prefix as
        // https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html recommends. The bucket is
        // SSE-KMS, so the key too.
        allow(
          ['s3:GetObject', 's3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
          [ctx.artifactsObjects('runs/')],
        ),
        ctx.kmsUse,
        allow(
          [
            'logs:CreateLogDelivery',
            'logs:GetLogDelivery',
            'logs:UpdateLogDelivery',
            'logs:DeleteLogDelivery',
            'logs:ListLogDeliveries',
            'logs:PutResourcePolicy',
            'logs:DescribeResourcePolicies',
            'logs:DescribeLogGroups',
          ],
          ['*'],
        ),
        allow(
          ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
          ['*'],
        ),
      ]),
    },
    outputs: { StateMachineArn: { Value: ctx.stateMachineArn } },
  };
}

/** The ASL file with each `${XxxFunctionArn}` placeholder bound to this stack's function of that name. */
export function definitionOf(aslText: string): Cfn {
  return JSON.parse(aslText, (_key, value: unknown) => {
    if (typeof value === 'string') {
      const m = /^\$\{([A-Z][A-Za-z]+)FunctionArn\}$/.exec(value);
      if (m) return arn(functionLogicalId(`${m[1]?.charAt(0).toLowerCase()}${m[1]?.slice(1)}`));
    }
    return value;
  }) as Cfn;
}
