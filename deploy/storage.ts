/**
 * Storage and keys: the KMS key, the raw, curated and artifacts buckets with their policies, and, in stages that
 * do not retain data, the custom resource that empties the buckets when the stack is removed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allow, arn, ref, serviceRole, sub, type Cfn, type Family } from './cfn';
import type { StackContext } from './context';

/** Lambda timeout of the bucket emptier, and the custom resource's ServiceTimeout just above it. */
export const EMPTIER_TIMEOUT_SECONDS = 280;
/**
 * CloudFormation waits ServiceTimeout seconds (1-3600, default 3600) for a custom resource to answer:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-customresource.html
 */
export const CUSTOM_RESOURCE_SERVICE_TIMEOUT = 300;
const BUCKETS = ['RawBucket', 'CuratedBucket', 'ArtifactsBucket'] as const;

/**
 * Multipart uploads that never complete (a Spark executor that dies mid-write, a killed upload) keep their parts,
 * billed as storage until they are aborted; a lifecycle rule aborts them
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html). Seven
 * days is well past the longest job (Timeout, 60 min) and the longest upload sluice makes.
 */
export const ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS = 7;
const abortIncompleteUploads = {
  Id: 'abort-incomplete-multipart-uploads',
  Status: 'Enabled',
  AbortIncompleteMultipartUpload: { DaysAfterInitiation: ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS },
};

export function storageAndKeys(ctx: StackContext): Family {
  const resources: Record<string, Cfn> = { ...key(ctx) };
  const { config } = ctx;
  // Versioning where it protects data: the landed raw files and the curated output.
  Object.assign(
    resources,
    bucket(
      ctx,
      'RawBucket',
      config.lake.rawBucket,
      { NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } } },
      true,
    ),
    bucket(ctx, 'CuratedBucket', config.lake.curatedBucket, {}, true),
    bucket(
      ctx,
      'ArtifactsBucket',
      ctx.artifactsBucketName,
      {
        LifecycleConfiguration: {
          Rules: [
            { Id: 'expire-athena-results', Status: 'Enabled', Prefix: 'athena-results/', ExpirationInDays: 30 },
            abortIncompleteUploads,
          ],
        },
      },
      false,
    ),
  );
  if (!ctx.retainData) Object.assign(resources, bucketEmptier(ctx));
  return { resources, outputs: { ArtifactsBucketName: { Value: ref('ArtifactsBucket') } } };
}

function key(ctx: StackContext): Record<string, Cfn> {
  return {
    SluiceKey: {
      Type: 'AWS::KMS::Key',
      ...ctx.dataPolicies,
      Properties: {
        Description: `sluice ${ctx.stage}: buckets, failure topic, Glue and Athena results`,
        EnableKeyRotation: true,
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: [
            // In a key policy, "Resource": "*" means this key.
            {
              Effect: 'Allow',
              Principal: { AWS: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root') },
              Action: 'kms:*',
              Resource: '*',
            },
            // CloudWatch alarms publish to the failure topic, which this key encrypts
            // (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
            // Confused deputy: the service principal acts only for this account's alarms in this region, by
            // aws:SourceAccount and aws:SourceArn (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html;
            // AWS's MDAA grants CloudWatch a topic key the same way: grantCloudWatchAlarmsTopicAccess,
            // https://aws.github.io/modern-data-architecture-accelerator/). docs/first-deploy.md step 6 checks that the
            // alarm still reaches the topic.
            {
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Resource: '*',
              Condition: {
                StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
                ArnLike: {
                  'aws:SourceArn': sub('arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*'),
                },
              },
            },
            {
              Effect: 'Allow',
              Principal: { Service: sub('logs.${AWS::Region}.amazonaws.com') },
              Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
              Resource: '*',
              Condition: {
                ArnLike: {
                  'kms:EncryptionContext:aws:logs:arn': sub(
                    'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*',
                  ),
                },
              },
            },
          ],
        },
      },
    },
    SluiceKeyAlias: {
      Type: 'AWS::KMS::Alias',
      Properties: { AliasName: ctx.config.names.keyAlias, TargetKeyId: ref('SluiceKey') },
    },
  };
}

function bucket(ctx: StackContext, logicalId: string, name: unknown, extra: Cfn, versioned: boolean) {
  return {
    [logicalId]: {
      Type: 'AWS::S3::Bucket',
      ...ctx.dataPolicies,
      Properties: {
        BucketName: name,
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ctx.keyArn },
              BucketKeyEnabled: true,
            },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        ...(versioned
          ? {
              VersioningConfiguration: { Status: 'Enabled' },
              LifecycleConfiguration: {
                Rules: [
                  { Id: 'expire-old-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 } },
                  abortIncompleteUploads,
                ],
              },
            }
          : {}),
        ...extra,
      },
    },
    [`${logicalId}Policy`]: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: ref(logicalId),
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyInsecureTransport',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [arn(logicalId), { 'Fn::Join': ['', [arn(logicalId), '/*']] }],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    },
  };
}

/**
 * `sls remove` empties only the deployment bucket; CloudFormation cannot delete a bucket that still holds objects
 * or versions (https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-bucket.html). This custom resource
 * refers to the buckets, so CloudFormation deletes it (and runs the emptying) before it deletes them.
 */
function bucketEmptier(ctx: StackContext): Record<string, Cfn> {
  const functionName = ctx.config.names.lambda('empty-buckets');
  const bucketArns = BUCKETS.map((b) => arn(b));
  const objectArns = BUCKETS.map((b) => ({ 'Fn::Join': ['', [arn(b), '/*']] }));
  return {
    BucketEmptierRole: serviceRole('lambda.amazonaws.com', 'empty-buckets', [
      allow(['s3:ListBucket', 's3:ListBucketVersions'], bucketArns),
      allow(['s3:DeleteObject', 's3:DeleteObjectVersion'], objectArns),
      allow(
        ['logs:CreateLogStream', 'logs:PutLogEvents'],
        [sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}:*`)],
      ),
    ]),
    BucketEmptierLogGroup: {
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: `/aws/lambda/${functionName}`, RetentionInDays: ctx.config.deploy.logRetentionDays },
    },
    BucketEmptier: {
      Type: 'AWS::Lambda::Function',
      DependsOn: ['BucketEmptierLogGroup'],
      Properties: {
        FunctionName: functionName,
        Description: 'Empties the stage buckets when the stack is deleted (stages that do not retain data)',
        Runtime: 'python3.12',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Timeout: EMPTIER_TIMEOUT_SECONDS,
        MemorySize: 256,
        Role: arn('BucketEmptierRole'),
        Code: { ZipFile: readFileSync(join(__dirname, 'empty_buckets.py'), 'utf8') },
      },
    },
    EmptyBucketsOnDelete: {
      Type: 'Custom::EmptyBucketsOnDelete',
      // The role's policy must outlive the emptying: delete this resource first.
      DependsOn: ['BucketEmptierRole', 'BucketEmptierLogGroup'],
      Properties: {
        ServiceToken: arn('BucketEmptier'),
        ServiceTimeout: CUSTOM_RESOURCE_SERVICE_TIMEOUT,
        Buckets: BUCKETS.map((b) => ref(b)),
      },
    },
  };
}
