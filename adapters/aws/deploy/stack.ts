/**
 * The CloudFormation side of `sls deploy --stage <name>`, generated from the stage's config file so that adding a
 * dataset is adding config, not YAML. serverless.yml pulls `functions`, `definition` and `resources` from here
 * (through serverless-stack.js). Every IAM statement names the ARNs it needs; the few actions AWS does not scope
 * to resources are listed in WILDCARD_ACTIONS with the reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig, ResolvedDataset } from '../../../domain/config';
import { STEP_FILES } from '../../../functions';

type Cfn = Record<string, unknown>;
const ROOT = join(__dirname, '..', '..', '..');

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
  'cloudwatch:PutMetricData':
    'CloudWatch metrics have no resource-level permissions (restricted to the Glue namespace by condition)',
};

/** Extra functions beside the step Lambdas. */
export const EXTRA_FUNCTIONS: Record<string, string> = {
  onArrival: 'functions/on-arrival.handler',
  onExecutionStatusChange: 'functions/on-execution-status-change.handler',
  replayDeadLetters: 'functions/replay-dead-letters.handler',
  scheduleCatchUp: 'functions/schedule-catch-up.handler',
};

const pascal = (s: string): string =>
  s
    .split(/[^A-Za-z0-9]/)
    .filter(Boolean)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
/** Serverless Framework's logical id for a function. */
export const functionLogicalId = (name: string): string =>
  `${name.charAt(0).toUpperCase()}${name.slice(1)}LambdaFunction`;
const sub = (text: string): Cfn => ({ 'Fn::Sub': text });
const arn = (logicalId: string): Cfn => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const ref = (logicalId: string): Cfn => ({ Ref: logicalId });

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: unknown[] | string;
  Condition?: Cfn;
}

const allow = (actions: string[], resources: unknown[], condition?: Cfn): Statement =>
  condition
    ? { Effect: 'Allow', Action: actions, Resource: resources, Condition: condition }
    : { Effect: 'Allow', Action: actions, Resource: resources };

export function buildStack(config: ResolvedConfig, stage: string, aslText: string) {
  const service = `sluice-${stage}`;
  const stateMachineName = service;
  const stateMachineArn = sub(
    `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${stateMachineName}`,
  );
  const executionArns = sub(
    `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${stateMachineName}:*`,
  );
  const mapRunExecutionArns = sub(
    `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${stateMachineName}/*`,
  );
  const rawBucket = config.lake.rawBucket;
  const curatedBucket = config.lake.curatedBucket;
  const artifactsBucket = sub(`sluice-${stage}-artifacts-\${AWS::AccountId}-\${AWS::Region}`);
  const artifactsArn = sub(`arn:\${AWS::Partition}:s3:::sluice-${stage}-artifacts-\${AWS::AccountId}-\${AWS::Region}`);
  const artifactsObjects = (prefix: string) =>
    sub(`arn:\${AWS::Partition}:s3:::sluice-${stage}-artifacts-\${AWS::AccountId}-\${AWS::Region}/${prefix}*`);
  const s3Bucket = (name: string) => sub(`arn:\${AWS::Partition}:s3:::${name}`);
  const s3Objects = (name: string, prefix: string) => sub(`arn:\${AWS::Partition}:s3:::${name}/${prefix}*`);
  const glueArn = (kind: string, name: string) =>
    sub(`arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:${kind}/${name}`);
  const catalogArn = sub(`arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:catalog`);
  const rawDatabase = `sluice_${stage}_raw`;
  const retention = config.deploy.retainData ? 'Retain' : 'Delete';
  const keyArn = arn('SluiceKey');
  const kmsUse = allow(['kms:Decrypt', 'kms:GenerateDataKey'], [keyArn]);
  const tableArn = arn('StateTable');
  const resources: Record<string, Cfn> = {};
  const outputs: Record<string, Cfn> = {};

  // ---------- Encryption key, buckets ----------
  resources.SluiceKey = {
    Type: 'AWS::KMS::Key',
    DeletionPolicy: retention,
    UpdateReplacePolicy: retention,
    Properties: {
      Description: `sluice ${stage}: buckets, failure topic, Glue and Athena results`,
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
          {
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Resource: '*',
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
  };
  resources.SluiceKeyAlias = {
    Type: 'AWS::KMS::Alias',
    Properties: { AliasName: `alias/${service}`, TargetKeyId: ref('SluiceKey') },
  };

  const bucket = (logicalId: string, name: unknown, extra: Cfn, versioned: boolean) => {
    resources[logicalId] = {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: retention,
      UpdateReplacePolicy: retention,
      Properties: {
        BucketName: name,
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
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
                ],
              },
            }
          : {}),
        ...extra,
      },
    };
    resources[`${logicalId}Policy`] = {
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
    };
  };
  // Versioning where it protects data: the landed raw files and the curated output.
  bucket(
    'RawBucket',
    rawBucket,
    { NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } } },
    true,
  );
  bucket('CuratedBucket', curatedBucket, {}, true);
  bucket(
    'ArtifactsBucket',
    artifactsBucket,
    {
      LifecycleConfiguration: {
        Rules: [{ Id: 'expire-athena-results', Status: 'Enabled', Prefix: 'athena-results/', ExpirationInDays: 30 }],
      },
    },
    false,
  );

  // ---------- State table, failure topic, dead letters ----------
  resources.StateTable = {
    Type: 'AWS::DynamoDB::Table',
    DeletionPolicy: retention,
    UpdateReplacePolicy: retention,
    Properties: {
      TableName: `${service}-state`,
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
  };
  resources.FailureTopic = {
    Type: 'AWS::SNS::Topic',
    Properties: {
      TopicName: `${service}-failures`,
      KmsMasterKeyId: ref('SluiceKey'),
      ...(config.deploy.alarmEmail
        ? { Subscription: [{ Protocol: 'email', Endpoint: config.deploy.alarmEmail }] }
        : {}),
    },
  };
  resources.DeadLetterQueue = {
    Type: 'AWS::SQS::Queue',
    Properties: { QueueName: `${service}-dead-letters`, MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true },
  };
  resources.DeadLetterAlarm = {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `${service}-dead-letters-not-empty`,
      AlarmDescription: 'Events the intake could not take are waiting: fix the cause, then invoke replayDeadLetters.',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeadLetterQueue', 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [ref('FailureTopic')],
    },
  };

  // ---------- Glue: databases, security configuration, per-dataset crawler, job, table, roles ----------
  resources.GlueSecurityConfiguration = {
    Type: 'AWS::Glue::SecurityConfiguration',
    Properties: {
      Name: service,
      EncryptionConfiguration: {
        S3Encryptions: [{ S3EncryptionMode: 'SSE-KMS', KmsKeyArn: keyArn }],
        CloudWatchEncryption: { CloudWatchEncryptionMode: 'SSE-KMS', KmsKeyArn: keyArn },
        JobBookmarksEncryption: { JobBookmarksEncryptionMode: 'CSE-KMS', KmsKeyArn: keyArn },
      },
    },
  };
  const databases = [rawDatabase, ...new Set(config.datasets.map((d) => d.target.database))];
  for (const name of databases)
    resources[`GlueDatabase${pascal(name)}`] = {
      Type: 'AWS::Glue::Database',
      Properties: { CatalogId: ref('AWS::AccountId'), DatabaseInput: { Name: name } },
    };

  const glueLogs = allow(
    ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
    [sub('arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws-glue/*')],
  );
  const glueRole = (logicalId: string, statements: Statement[]) => {
    resources[logicalId] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'glue.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        Policies: [
          {
            PolicyName: logicalId,
            PolicyDocument: { Version: '2012-10-17', Statement: [glueLogs, kmsUse, ...statements] },
          },
        ],
      },
    };
  };

  resources.GlueScriptUploaderRole = {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: 'upload-glue-script',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              allow(['s3:PutObject', 's3:DeleteObject'], [artifactsObjects('glue/')]),
              allow(['kms:GenerateDataKey'], [keyArn]),
              allow(
                ['logs:CreateLogStream', 'logs:PutLogEvents'],
                [
                  sub(
                    `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${service}-glue-script-uploader:*`,
                  ),
                ],
              ),
            ],
          },
        },
      ],
    },
  };
  resources.GlueScriptUploaderLogGroup = {
    Type: 'AWS::Logs::LogGroup',
    Properties: {
      LogGroupName: `/aws/lambda/${service}-glue-script-uploader`,
      RetentionInDays: config.deploy.logRetentionDays,
    },
  };
  resources.GlueScriptUploader = {
    Type: 'AWS::Lambda::Function',
    DependsOn: ['GlueScriptUploaderLogGroup'],
    Properties: {
      FunctionName: `${service}-glue-script-uploader`,
      Runtime: 'python3.12',
      Handler: 'index.handler',
      Timeout: 30,
      Role: arn('GlueScriptUploaderRole'),
      Code: {
        ZipFile: [
          'import boto3, cfnresponse',
          'def handler(event, context):',
          '    props = event["ResourceProperties"]',
          '    try:',
          '        s3 = boto3.client("s3")',
          '        if event["RequestType"] in ("Create", "Update"):',
          '            s3.put_object(Bucket=props["Bucket"], Key=props["Key"], Body=props["Body"].encode("utf-8"))',
          '        elif event["RequestType"] == "Delete":',
          '            s3.delete_object(Bucket=props["Bucket"], Key=props["Key"])',
          '        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, "s3://%s/%s" % (props["Bucket"], props["Key"]))',
          '    except Exception as error:',
          '        cfnresponse.send(event, context, cfnresponse.FAILED, {"Error": str(error)})',
        ].join('\n'),
      },
    },
  };
  const script = readFileSync(join(ROOT, 'adapters', 'aws', 'glue', 'convert_partition.py'), 'utf8');
  resources.GlueJobScript = {
    Type: 'Custom::GlueScript',
    Properties: {
      ServiceToken: arn('GlueScriptUploader'),
      Bucket: ref('ArtifactsBucket'),
      Key: 'glue/convert_partition.py',
      Body: script,
    },
  };

  for (const d of config.datasets) resources_forDataset(d);

  function resources_forDataset(d: ResolvedDataset): void {
    const id = pascal(d.name);
    const targetPrefix = d.target.locationTemplate.split('{')[0] ?? '';
    glueRole(`CrawlerRole${id}`, [
      allow(['s3:ListBucket'], [s3Bucket(rawBucket)], { StringLike: { 's3:prefix': [`${d.raw.prefix}*`] } }),
      allow(['s3:GetObject'], [s3Objects(rawBucket, d.raw.prefix)]),
      allow(
        [
          'glue:GetDatabase',
          'glue:GetTable',
          'glue:GetTables',
          'glue:CreateTable',
          'glue:UpdateTable',
          'glue:GetPartition',
          'glue:GetPartitions',
          'glue:BatchGetPartition',
          'glue:BatchCreatePartition',
          'glue:UpdatePartition',
          'glue:BatchUpdatePartition',
        ],
        [catalogArn, glueArn('database', rawDatabase), glueArn('table', `${rawDatabase}/*`)],
      ),
      allow(['glue:GetSecurityConfiguration'], [catalogArn]),
    ]);
    resources[`Crawler${id}`] = {
      Type: 'AWS::Glue::Crawler',
      DependsOn: [`GlueDatabase${pascal(rawDatabase)}`],
      Properties: {
        Name: d.crawler.name,
        Role: arn(`CrawlerRole${id}`),
        DatabaseName: rawDatabase,
        Targets: { S3Targets: [{ Path: `s3://${rawBucket}/${d.raw.prefix}`, Exclusions: ['**/_*', '**/.*'] }] },
        CrawlerSecurityConfiguration: ref('GlueSecurityConfiguration'),
        ...(d.crawler.recrawl === 'new-folders-only'
          ? {
              // Only new folders (partitions) are crawled; Glue requires LOG behaviours with this policy.
              RecrawlPolicy: { RecrawlBehavior: 'CRAWL_NEW_FOLDERS_ONLY' },
              SchemaChangePolicy: { UpdateBehavior: 'LOG', DeleteBehavior: 'LOG' },
            }
          : {
              RecrawlPolicy: { RecrawlBehavior: 'CRAWL_EVERYTHING' },
              SchemaChangePolicy: { UpdateBehavior: 'UPDATE_IN_DATABASE', DeleteBehavior: 'DEPRECATE_IN_DATABASE' },
            }),
        Configuration: JSON.stringify({ Version: 1.0, Grouping: { TableGroupingPolicy: 'CombineCompatibleSchemas' } }),
      },
    };
    glueRole(`JobRole${id}`, [
      allow(['s3:GetObject'], [s3Objects(rawBucket, d.raw.prefix), artifactsObjects('glue/')]),
      allow(['s3:ListBucket'], [s3Bucket(rawBucket)], { StringLike: { 's3:prefix': [`${d.raw.prefix}*`] } }),
      allow(['s3:ListBucket'], [s3Bucket(curatedBucket)], {
        StringLike: { 's3:prefix': [`${targetPrefix}*`, `_rejected/${d.name}/*`] },
      }),
      allow(
        ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        [s3Objects(curatedBucket, targetPrefix), s3Objects(curatedBucket, `_rejected/${d.name}/`)],
      ),
      allow(['kms:Encrypt'], [keyArn]),
      allow(['cloudwatch:PutMetricData'], ['*'], { StringEquals: { 'cloudwatch:namespace': 'Glue' } }),
    ]);
    resources[`Job${id}`] = {
      Type: 'AWS::Glue::Job',
      DependsOn: ['GlueJobScript'],
      Properties: {
        Name: d.job.name,
        Role: arn(`JobRole${id}`),
        Command: {
          Name: 'glueetl',
          PythonVersion: '3',
          ScriptLocation: {
            'Fn::Sub': [`s3://\${Bucket}/glue/convert_partition.py`, { Bucket: ref('ArtifactsBucket') }],
          },
        },
        GlueVersion: '4.0',
        WorkerType: config.deploy.glueWorkerType,
        NumberOfWorkers: config.deploy.glueWorkers,
        ExecutionProperty: { MaxConcurrentRuns: d.job.maxConcurrentRuns },
        Timeout: d.job.timeoutMinutes,
        // sluice retries and reports per partition; Glue's own retries would hide failures and double-write.
        MaxRetries: 0,
        SecurityConfiguration: ref('GlueSecurityConfiguration'),
        DefaultArguments: {
          '--job-bookmark-option': 'job-bookmark-disable',
          '--enable-continuous-cloudwatch-log': 'true',
          ...d.job.arguments,
        },
      },
    };
    const partitionType = { int: 'int', date: 'date', string: 'string' } as const;
    resources[`Table${id}`] = {
      Type: 'AWS::Glue::Table',
      DependsOn: [`GlueDatabase${pascal(d.target.database)}`],
      Properties: {
        CatalogId: ref('AWS::AccountId'),
        DatabaseName: d.target.database,
        TableInput: {
          Name: d.target.table,
          TableType: 'EXTERNAL_TABLE',
          Parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
          PartitionKeys: d.partitioning.keys.map((k) => ({ Name: k.name, Type: partitionType[k.type] })),
          StorageDescriptor: {
            Columns: d.mapping.map((m) => ({ Name: m.target, Type: m.type })),
            Location: `s3://${curatedBucket}/${targetPrefix}`,
            InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          },
        },
      },
    };
    resources[`ArrivalRule${id}`] = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: `${service}-${d.name.replace(/_/g, '-')}-arrivals`,
        Description: `S3 Object Created under s3://${rawBucket}/${d.raw.prefix} -> onArrival`,
        EventPattern: {
          source: ['aws.s3'],
          'detail-type': ['Object Created'],
          detail: { bucket: { name: [rawBucket] }, object: { key: [{ prefix: d.raw.prefix }] } },
        },
        Targets: [eventTarget('onArrival')],
      },
    };
    resources[`ArrivalRule${id}Permission`] = invokePermission('onArrival', `ArrivalRule${id}`);
  }

  function eventTarget(fn: string): Cfn {
    return {
      Id: fn,
      Arn: arn(functionLogicalId(fn)),
      DeadLetterConfig: { Arn: arn('DeadLetterQueue') },
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

  resources.ExecutionStatusRule = {
    Type: 'AWS::Events::Rule',
    Properties: {
      Name: `${service}-execution-ended-abnormally`,
      Description:
        'Failed, timed-out or aborted executions -> onExecutionStatusChange (frees the lease, returns the claim)',
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [stateMachineArn] },
      },
      Targets: [eventTarget('onExecutionStatusChange')],
    },
  };
  resources.ExecutionStatusRulePermission = invokePermission('onExecutionStatusChange', 'ExecutionStatusRule');
  const ruleArns: unknown[] = [
    ...config.datasets.map((d) => arn(`ArrivalRule${pascal(d.name)}`)),
    arn('ExecutionStatusRule'),
  ];
  if (config.deploy.catchUpSchedule) {
    resources.CatchUpRule = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: `${service}-catch-up`,
        Description: 'Starts a run for every dataset with pending arrivals and no active run',
        ScheduleExpression: config.deploy.catchUpSchedule,
        Targets: [eventTarget('scheduleCatchUp')],
      },
    };
    resources.CatchUpRulePermission = invokePermission('scheduleCatchUp', 'CatchUpRule');
    ruleArns.push(arn('CatchUpRule'));
  }
  resources.DeadLetterQueuePolicy = {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [ref('DeadLetterQueue')],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'EventBridgeTargetsDeadLetters',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: arn('DeadLetterQueue'),
            Condition: { ArnEquals: { 'aws:SourceArn': ruleArns } },
          },
          {
            Sid: 'DenyInsecureTransport',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sqs:*',
            Resource: arn('DeadLetterQueue'),
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      },
    },
  };

  // ---------- Athena ----------
  resources.AthenaWorkGroup = {
    Type: 'AWS::Athena::WorkGroup',
    Properties: {
      Name: config.athena.workgroup,
      RecursiveDeleteOption: true,
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        ResultConfiguration: {
          OutputLocation: { 'Fn::Sub': ['s3://${Bucket}/athena-results/', { Bucket: ref('ArtifactsBucket') }] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: keyArn },
        },
      },
    },
  };
  const workgroupArn = sub(
    `arn:\${AWS::Partition}:athena:\${AWS::Region}:\${AWS::AccountId}:workgroup/${config.athena.workgroup}`,
  );
  const targetTables = config.datasets.map((d) => glueArn('table', `${d.target.database}/${d.target.table}`));
  const targetDatabases = [...new Set(config.datasets.map((d) => glueArn('database', d.target.database)))];

  // ---------- One role per function, only what it uses ----------
  const crawlers = config.datasets.map((d) => glueArn('crawler', d.crawler.name));
  const jobs = config.datasets.map((d) => glueArn('job', d.job.name));
  const table = (actions: string[]) =>
    allow(
      actions.map((a) => `dynamodb:${a}`),
      [tableArn],
    );
  const startExecution = allow(['states:StartExecution'], [stateMachineArn]);
  const ledgerAndLease = table(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query']);
  const needs: Record<string, Statement[]> = {
    prepareRun: [table(['GetItem', 'UpdateItem'])],
    claimArrivals: [table(['GetItem', 'PutItem', 'DeleteItem', 'Query'])],
    startCrawler: [allow(['glue:GetCrawler', 'glue:StartCrawler'], crawlers)],
    checkCrawler: [allow(['glue:GetCrawler'], crawlers)],
    startJobRun: [allow(['glue:GetJobRuns', 'glue:StartJobRun'], jobs)],
    checkJobRun: [allow(['glue:GetJobRun'], jobs)],
    summarizeJobRuns: [],
    startPartitionRefresh: [
      allow(['athena:StartQueryExecution'], [workgroupArn]),
      allow(
        [
          'glue:GetDatabase',
          'glue:GetTable',
          'glue:GetPartition',
          'glue:GetPartitions',
          'glue:BatchCreatePartition',
          'glue:CreatePartition',
        ],
        [catalogArn, ...targetDatabases, ...targetTables],
      ),
      allow(['s3:GetBucketLocation', 's3:ListBucket'], [artifactsArn]),
      allow(['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'], [artifactsObjects('athena-results/')]),
      kmsUse,
    ],
    checkPartitionRefresh: [allow(['athena:GetQueryExecution'], [workgroupArn])],
    notifyFailure: [allow(['sns:Publish'], [ref('FailureTopic')]), kmsUse],
    releaseLease: [ledgerAndLease, startExecution],
    onArrival: [ledgerAndLease, startExecution, allow(['sqs:SendMessage'], [arn('DeadLetterQueue')])],
    onExecutionStatusChange: [ledgerAndLease, startExecution],
    replayDeadLetters: [
      ledgerAndLease,
      startExecution,
      allow(['sqs:ReceiveMessage', 'sqs:DeleteMessage'], [arn('DeadLetterQueue')]),
    ],
    scheduleCatchUp: [ledgerAndLease, startExecution],
  };
  const handlers: Record<string, string> = { ...STEP_FILES, ...EXTRA_FUNCTIONS };
  const functions: Record<string, Cfn> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    const statements = needs[name];
    if (!statements) throw new Error(`no IAM statements declared for function ${name}`);
    resources[`${pascal(name)}Role`] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        Policies: [
          {
            PolicyName: name,
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                allow(
                  ['logs:CreateLogStream', 'logs:PutLogEvents'],
                  [
                    sub(
                      `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${service}-${name}:*`,
                    ),
                  ],
                ),
                allow(['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], ['*']),
                ...statements,
              ],
            },
          },
        ],
      },
    };
    functions[name] = {
      handler,
      role: `${pascal(name)}Role`,
      ...(name === 'onArrival'
        ? { destinations: { onFailure: { type: 'sqs', arn: arn('DeadLetterQueue') } }, maximumRetryAttempts: 2 }
        : {}),
      ...(name === 'replayDeadLetters' ? { timeout: 300 } : {}),
    };
  }

  // Rejected arrivals are logged by onArrival with metric "RejectedArrivals"; this turns those lines into a count.
  resources.RejectedArrivalsMetricFilter = {
    Type: 'AWS::Logs::MetricFilter',
    DependsOn: ['OnArrivalLogGroup'],
    Properties: {
      LogGroupName: `/aws/lambda/${service}-onArrival`,
      FilterPattern: '{ $.metric = "RejectedArrivals" }',
      MetricTransformations: [
        {
          MetricNamespace: 'sluice',
          MetricName: 'RejectedArrivals',
          MetricValue: '1',
          DefaultValue: 0,
          Dimensions: [{ Key: 'stage', Value: stage }],
        },
      ],
    },
  };

  // ---------- State machine role and logs ----------
  resources.StateMachineLogGroup = {
    Type: 'AWS::Logs::LogGroup',
    Properties: { LogGroupName: `/aws/vendedlogs/states/${service}`, RetentionInDays: config.deploy.logRetentionDays },
  };
  const stepFunctionArns = Object.keys(STEP_FILES).flatMap((name) => [
    arn(functionLogicalId(name)),
    { 'Fn::Join': [':', [arn(functionLogicalId(name)), '*']] },
  ]);
  resources.StateMachineRole = {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: 'state-machine',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              allow(['lambda:InvokeFunction'], stepFunctionArns),
              // Distributed Map: child executions of this state machine, and redrive of them.
              allow(['states:StartExecution'], [stateMachineArn]),
              allow(
                ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution'],
                [executionArns, mapRunExecutionArns],
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
                [
                  'xray:PutTraceSegments',
                  'xray:PutTelemetryRecords',
                  'xray:GetSamplingRules',
                  'xray:GetSamplingTargets',
                ],
                ['*'],
              ),
            ],
          },
        },
      ],
    },
  };

  // ---------- The definition: the ASL file, with Lambda placeholders bound to this stack's functions ----------
  const definition = JSON.parse(aslText, (_key, value: unknown) => {
    if (typeof value === 'string') {
      const m = /^\$\{([A-Z][A-Za-z]+)FunctionArn\}$/.exec(value);
      if (m) return arn(functionLogicalId(`${m[1]?.charAt(0).toLowerCase()}${m[1]?.slice(1)}`));
    }
    return value;
  }) as Cfn;

  outputs.StateMachineArn = { Value: stateMachineArn };
  outputs.FailureTopicArn = { Value: ref('FailureTopic') };
  outputs.DeadLetterQueueUrl = { Value: ref('DeadLetterQueue') };
  outputs.ArtifactsBucketName = { Value: ref('ArtifactsBucket') };

  const environment = {
    SLUICE_CONFIG_FILE: `config/${stage}.json`,
    SLUICE_TABLE_NAME: ref('StateTable'),
    SLUICE_TOPIC_ARN: ref('FailureTopic'),
    SLUICE_STATE_MACHINE_ARN: stateMachineArn,
    SLUICE_DEAD_LETTER_QUEUE_URL: ref('DeadLetterQueue'),
    POWERTOOLS_SERVICE_NAME: 'sluice',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    NODE_OPTIONS: '--enable-source-maps',
  };
  return {
    settings: {
      region: config.region,
      logRetentionDays: config.deploy.logRetentionDays,
      stateMachineName,
      environment,
    },
    functions,
    definition,
    resources: { Resources: resources, Outputs: outputs },
  };
}
