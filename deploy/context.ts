/**
 * What every resource family of the stack needs to know, derived once from the stage's validated config:
 * names, ARNs of resources that other families own, and the stage's data-retention policy.
 */
import type { ResolvedConfig } from '../domain/config';
import { allow, arn, sub, type Cfn, type Statement } from './cfn';

export interface StackContext {
  config: ResolvedConfig;
  stage: string;
  /** Where the failure topic sends alarms (stage-checks.ts: env or config, never a placeholder). */
  alarmEmail: string | undefined;
  service: string;
  aslText: string;
  /** Keep data when the stack goes away (prod); otherwise the buckets are emptied so the stack can be removed. */
  retainData: boolean;
  /** DeletionPolicy and UpdateReplacePolicy of the resources that hold data. */
  dataPolicies: { DeletionPolicy: string; UpdateReplacePolicy: string };
  stateMachineArn: Cfn;
  executionArns: Cfn;
  mapRunExecutionArns: Cfn;
  artifactsBucketName: Cfn;
  artifactsArn: Cfn;
  artifactsObjects(prefix: string): Cfn;
  s3Bucket(name: string): Cfn;
  s3Objects(name: string, prefix: string): Cfn;
  glueArn(kind: string, name: string): Cfn;
  catalogArn: Cfn;
  keyArn: Cfn;
  kmsUse: Statement;
  tableArn: Cfn;
}

/**
 * RetainExceptOnCreate behaves like Retain, except that a rolled-back *create* deletes what it made, so a failed
 * first deploy can be retried without "already exists" errors. UpdateReplacePolicy has no such value (Delete,
 * Retain, Snapshot), so replacements retain. Sources:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
 * https://aws.amazon.com/about-aws/whats-new/2023/07/aws-cloudformation-deletion-policies-dev-test-cycle/
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-updatereplacepolicy.html
 */
export const RETAINED = { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' } as const;
export const DELETED = { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' } as const;

export function stackContext(
  config: ResolvedConfig,
  stage: string,
  aslText: string,
  alarmEmail: string | undefined,
): StackContext {
  const names = config.names;
  const stateMachineName = names.stateMachine;
  const artifacts = names.artifactsBucketTemplate;
  const keyArn = arn('SluiceKey');
  return {
    config,
    stage,
    alarmEmail,
    service: names.service,
    aslText,
    retainData: config.deploy.retainData,
    dataPolicies: config.deploy.retainData ? { ...RETAINED } : { ...DELETED },
    stateMachineArn: sub(
      `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${stateMachineName}`,
    ),
    executionArns: sub(
      `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${stateMachineName}:*`,
    ),
    mapRunExecutionArns: sub(
      `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${stateMachineName}/*`,
    ),
    artifactsBucketName: sub(artifacts),
    artifactsArn: sub(`arn:\${AWS::Partition}:s3:::${artifacts}`),
    artifactsObjects: (prefix) => sub(`arn:\${AWS::Partition}:s3:::${artifacts}/${prefix}*`),
    s3Bucket: (name) => sub(`arn:\${AWS::Partition}:s3:::${name}`),
    s3Objects: (name, prefix) => sub(`arn:\${AWS::Partition}:s3:::${name}/${prefix}*`),
    glueArn: (kind, name) => sub(`arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:${kind}/${name}`),
    catalogArn: sub(`arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:catalog`),
    keyArn,
    kmsUse: allow(['kms:Decrypt', 'kms:GenerateDataKey'], [keyArn]),
    tableArn: arn('StateTable'),
  };
}
