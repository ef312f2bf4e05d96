/** The state machine: its role, its log group, and the ASL file with Lambda placeholders bound to this stack. */
import { STEP_FILES } from '../../../functions';
import { allow, arn, functionLogicalId, serviceRole, type Cfn, type Family } from './cfn';
import type { StackContext } from './context';

export function stateMachine(ctx: StackContext): Family {
  const stepFunctionArns = Object.keys(STEP_FILES).flatMap((name) => [
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
