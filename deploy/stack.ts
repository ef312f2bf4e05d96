/**
 * The CloudFormation side of `sls deploy --stage <name>`, generated from the stage's config file so that adding a
 * dataset is adding config, not YAML. serverless.yml pulls `functions`, `definition` and `resources` from here
 * (through serverless-stack.js). Each resource family lives in its own module; this file only assembles them.
 * Every IAM statement names the ARNs it needs; the few actions AWS does not scope to resources are listed in
 * WILDCARD_ACTIONS with the reason.
 */
import { assertNameWithin, type ResolvedConfig } from '../domain/config';
import { type Cfn, type Family } from './cfn';
import { stackContext, type StackContext } from './context';
import { functionsAndRoles } from './functions';
import { glue } from './glue';
import { athena } from './athena';
import { definitionOf, stateMachine } from './state-machine';
import { stateTableAndQueues } from './state';
import { storageAndKeys } from './storage';
import { triggers } from './triggers';
import { observability } from './observability';
import { waits } from './waits';
import { alarmEmailFor } from './stage-checks';

export { functionLogicalId } from './cfn';
export { EXTRA_FUNCTIONS } from './functions';

/** Actions granted on "*" because AWS offers no resource-level permission for them. */
export const WILDCARD_ACTIONS: Record<string, string> = {
  'xray:PutTraceSegments': 'X-Ray has no resource-level permissions',
  'xray:PutTelemetryRecords': 'X-Ray has no resource-level permissions',
  'xray:GetSamplingRules': 'X-Ray has no resource-level permissions (state machine tracing)',
  'xray:GetSamplingTargets': 'X-Ray has no resource-level permissions (state machine tracing)',
  'logs:CreateLogDelivery': 'CloudWatch Logs vended delivery (state machine logging) supports only "*"',
  'logs:GetLogDelivery': 'CloudWatch Logs vended delivery supports only "*"',
  'logs:UpdateLogDelivery': 'CloudWatch Logs vended delivery supports only "*"',
  'logs:DeleteLogDelivery': 'CloudWatch Logs vended delivery supports only "*"',
  'logs:ListLogDeliveries': 'CloudWatch Logs vended delivery supports only "*"',
  'logs:PutResourcePolicy': 'CloudWatch Logs vended delivery supports only "*"',
  'logs:DescribeResourcePolicies': 'CloudWatch Logs vended delivery supports only "*"',
  'logs:DescribeLogGroups': 'CloudWatch Logs vended delivery supports only "*"',
  'states:SendTaskSuccess':
    'no resource type in the Service Authorization Reference: the task token is the credential (waits.ts)',
  'states:SendTaskFailure':
    'no resource type in the Service Authorization Reference: the task token is the credential (waits.ts)',
  'states:SendTaskHeartbeat':
    'no resource type in the Service Authorization Reference: the task token is the credential (waits.ts)',
  'cloudwatch:PutMetricData':
    'CloudWatch metrics have no resource-level permissions (restricted to the Glue namespace by condition)',
};

/** The stack, family by family. A new family is one line here. */
/** A family may read what the families before it defined (observability charts every dead-letter queue). */
const FAMILIES: Array<(ctx: StackContext, before: Readonly<Record<string, Cfn>>) => Family> = [
  storageAndKeys,
  stateTableAndQueues,
  glue,
  athena,
  functionsAndRoles,
  triggers,
  stateMachine,
  waits,
  // Last: its dashboard charts every dead-letter queue the families above define.
  observability,
];

export function buildStack(
  config: ResolvedConfig,
  stage: string,
  aslText: string,
  env: Record<string, string | undefined> = process.env,
) {
  const ctx = stackContext(config, stage, aslText, alarmEmailFor(config, stage, env));
  const resources: Record<string, Cfn> = {};
  const outputs: Record<string, Cfn> = {};
  const functions: Record<string, Cfn> = {};
  for (const family of FAMILIES) {
    const part = family(ctx, resources);
    for (const [target, entries] of [
      [resources, part.resources],
      [outputs, part.outputs ?? {}],
      [functions, part.functions ?? {}],
    ] as const) {
      const clash = Object.keys(entries).find((id) => id in target);
      if (clash) throw new Error(`${family.name} defines ${clash}, which another resource family already defines`);
      Object.assign(target, entries);
    }
  }
  for (const name of Object.keys(functions)) assertNameWithin('lambdaFunction', config.names.lambda(name), '/stage');

  const environment = {
    SLUICE_CONFIG_FILE: `config/${stage}.json`,
    SLUICE_TABLE_NAME: { Ref: 'StateTable' },
    // Run failures go to the FIFO topic (one per failed run, deduplicated by execution: state.ts RUN_FAILURES).
    SLUICE_TOPIC_ARN: { Ref: 'RunFailureTopic' },
    SLUICE_STATE_MACHINE_ARN: ctx.stateMachineArn,
    SLUICE_DEAD_LETTER_QUEUE_URL: { Ref: 'DeadLetterQueue' },
    // Issue 12: run artifacts (partition lists, ResultWriter output, succeeded/failed lists) by reference.
    SLUICE_ARTIFACTS_BUCKET: { Ref: 'ArtifactsBucket' },
    POWERTOOLS_SERVICE_NAME: 'sluice',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    NODE_OPTIONS: '--enable-source-maps',
  };
  return {
    settings: {
      region: config.region,
      logRetentionDays: config.deploy.logRetentionDays,
      stateMachineName: config.names.stateMachine,
      environment,
    },
    functions,
    definition: definitionOf(aslText),
    resources: { Resources: resources, Outputs: outputs },
  };
}
