/**
 * Glue: the security configuration, the raw and curated databases, and per dataset its crawler, job and target
 * table, each with a role scoped to that dataset's folders, and the log groups Glue writes them to.
 */
import type { PartitionKeySpec } from '../schemas/types.generated';
import { REJECTED_FOLDER, type ResolvedDataset } from '../domain/config';
import { JOB_SUMMARY_PREFIX } from '../domain/rows';
import { BATCH_FOLDERS } from './functions';
import { allow, arn, listBucket, pascal, ref, serviceRole, sub, type Cfn, type Family, type Statement } from './cfn';
import type { StackContext } from './context';
import { glueScriptArtifact } from './glue-script';

/** Hive/Glue column type of each partition key type the config allows (the Athena DDL quotes by the same types). */
export const PARTITION_COLUMN_TYPE: Record<PartitionKeySpec['type'], string> = {
  int: 'int',
  date: 'date',
  string: 'string',
};

/**
 * The job's Glue version (issue 22): Spark 3.5.4, Python 3.11, Java 17
 * (https://docs.aws.amazon.com/glue/latest/dg/release-notes.html,
 * https://docs.aws.amazon.com/glue/latest/dg/migrating-version-50.html).
 */
export const GLUE_VERSION = '5.0';

/**
 * Job arguments of Glue 4.0 and earlier that Glue 5.0 replaced: every 5.0 job logs in real time to its log groups
 * ("In AWS Glue 4.0 and earlier versions, continuous logging was an available feature. However, with the
 * introduction of AWS Glue 5.0, all jobs have real-time logging capability":
 * https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging-enable.html; 5.0's own options are
 * --custom-logGroup-prefix and --custom-logStream-prefix: https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging.html).
 */
export const PRE_GLUE_5_ARGUMENTS = [
  '--enable-continuous-cloudwatch-log',
  '--enable-continuous-log-filter',
  '--continuous-log-logGroup',
  '--continuous-log-logStreamPrefix',
  '--continuous-log-conversionPattern',
];

/**
 * The log groups Glue writes a job's and a crawler's logs to when their security configuration encrypts CloudWatch
 * logs: the default groups (/aws-glue/jobs/output, /aws-glue/jobs/error, /aws-glue/jobs/logs-v2, /aws-glue/crawlers)
 * get the security configuration and the role in their names. Job output and error:
 * /aws-glue/jobs/<security configuration>-role/<role name>/{output,error}; continuous (logs-v2):
 * /aws-glue/jobs/logs-v2-<security configuration>; crawler: /aws-glue/crawlers-role/<role name>-<security
 * configuration>. Sources: Glue 5.0's default groups (https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging.html),
 * the logs-v2 default (https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging-enable.html), and
 * JobRun.LogGroupName, which says a security configuration's name and the role name go into the group's name
 * (https://docs.aws.amazon.com/glue/latest/webapi/API_JobRun.html). No AWS page spells out every suffixed form; the
 * forms here are the ones public stacks create and grant. docs/first-deploy.md step 11 lists /aws-glue/ after a run
 * and flags any group this stack does not own (one without the stage's retention). Glue creates missing groups with no
 * retention, unencrypted by the stack, and they survive `sls remove`; declared here they carry the stage's retention
 * and the stack key (the one the security configuration encrypts with), and go with the stack. The unsuffixed
 * account-wide groups are not declared: every stage and every other Glue user of the account would share them, and
 * sluice's jobs and crawlers never write there (each has a security configuration, checked by a template rule).
 */
export function glueLogGroupNames(kind: 'job' | 'crawler', roleLogicalId: string, securityConfiguration: string) {
  return kind === 'job'
    ? [
        `/aws-glue/jobs/${securityConfiguration}-role/\${${roleLogicalId}}/output`,
        `/aws-glue/jobs/${securityConfiguration}-role/\${${roleLogicalId}}/error`,
      ]
    : [`/aws-glue/crawlers-role/\${${roleLogicalId}}-${securityConfiguration}`];
}

function logGroup(ctx: StackContext, name: string): Cfn {
  return {
    Type: 'AWS::Logs::LogGroup',
    Properties: {
      LogGroupName: name.includes('${') ? sub(name) : name,
      RetentionInDays: ctx.config.deploy.logRetentionDays,
      KmsKeyId: ctx.keyArn,
    },
  };
}

export function glue(ctx: StackContext): Family {
  const { config } = ctx;
  const resources: Record<string, Cfn> = {
    GlueSecurityConfiguration: {
      Type: 'AWS::Glue::SecurityConfiguration',
      Properties: {
        Name: config.names.glueSecurityConfiguration,
        EncryptionConfiguration: {
          S3Encryptions: [{ S3EncryptionMode: 'SSE-KMS', KmsKeyArn: ctx.keyArn }],
          CloudWatchEncryption: { CloudWatchEncryptionMode: 'SSE-KMS', KmsKeyArn: ctx.keyArn },
          JobBookmarksEncryption: { JobBookmarksEncryptionMode: 'CSE-KMS', KmsKeyArn: ctx.keyArn },
        },
      },
    },
  };
  for (const name of [config.names.rawDatabase, ...new Set(config.datasets.map((d) => d.target.database))])
    resources[databaseId(name)] = {
      Type: 'AWS::Glue::Database',
      Properties: { CatalogId: ref('AWS::AccountId'), DatabaseInput: { Name: name } },
    };
  for (const d of config.datasets) Object.assign(resources, crawler(ctx, d), job(ctx, d), targetTable(ctx, d));
  // The continuous (logs-v2) group of the security configuration, shared by the stage's jobs.
  resources.GlueJobsContinuousLogGroup = logGroup(
    ctx,
    `/aws-glue/jobs/logs-v2-${config.names.glueSecurityConfiguration}`,
  );
  return { resources };
}

const databaseId = (name: string) => `GlueDatabase${pascal(name)}`;

function glueRole(ctx: StackContext, statements: Statement[]): Cfn {
  const glueLogs = allow(
    ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
    [sub('arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws-glue/*')],
  );
  return serviceRole('glue.amazonaws.com', 'glue', [glueLogs, ctx.kmsUse, ...statements]);
}

function crawler(ctx: StackContext, d: ResolvedDataset): Record<string, Cfn> {
  const id = pascal(d.name);
  const rawDatabase = ctx.config.names.rawDatabase;
  const rawBucket = ctx.config.lake.rawBucket;
  const [crawlerLogs] = glueLogGroupNames('crawler', `CrawlerRole${id}`, ctx.config.names.glueSecurityConfiguration);
  return {
    [`CrawlerLogGroup${id}`]: logGroup(ctx, crawlerLogs!),
    [`CrawlerRole${id}`]: glueRole(ctx, [
      // The crawler lists (with a prefix) and reads what it listed: no existence checks of missing keys.
      ...listBucket(ctx.s3Bucket(rawBucket), { folders: [d.raw.prefix] }),
      allow(['s3:GetObject'], [ctx.s3Objects(rawBucket, d.raw.prefix)]),
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
        [ctx.catalogArn, ctx.glueArn('database', rawDatabase), ctx.glueArn('table', `${rawDatabase}/*`)],
      ),
      allow(['glue:GetSecurityConfiguration'], [ctx.catalogArn]),
    ]),
    [`Crawler${id}`]: {
      Type: 'AWS::Glue::Crawler',
      // The crawler's first run must find its bucket and role (the Role property holds only the ARN's text).
      DependsOn: [databaseId(rawDatabase), 'RawBucket', `CrawlerRole${id}`],
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
        // Partition indexes are off explicitly (the crawler creates them by default): they would need
        // glue:CreatePartitionIndex, no query looks raw partitions up, and AWS does not support them for encrypted
        // partitions. CreatePartitionIndex: false is the documented switch:
        // https://docs.aws.amazon.com/glue/latest/dg/crawler-configure-partition-indexes.html
        Configuration: JSON.stringify({
          Version: 1.0,
          Grouping: { TableGroupingPolicy: 'CombineCompatibleSchemas' },
          CreatePartitionIndex: false,
        }),
      },
    },
  };
}

function job(ctx: StackContext, d: ResolvedDataset): Record<string, Cfn> {
  const id = pascal(d.name);
  const { config } = ctx;
  const rawBucket = config.lake.rawBucket;
  const curatedBucket = config.lake.curatedBucket;
  const rejected = `${REJECTED_FOLDER}${d.name}/`;
  const script = glueScriptArtifact(ctx.stage);
  const [output, error] = glueLogGroupNames('job', `JobRole${id}`, config.names.glueSecurityConfiguration);
  return {
    [`JobOutputLogGroup${id}`]: logGroup(ctx, output!),
    [`JobErrorLogGroup${id}`]: logGroup(ctx, error!),
    [`JobRole${id}`]: glueRole(ctx, [
      allow(['s3:GetObject'], [ctx.s3Objects(rawBucket, d.raw.prefix)]),
      allow(['s3:GetObject'], [{ 'Fn::Join': ['', [arn('ServerlessDeploymentBucket'), `/${script.key}`]] }]),
      // Spark lists the folders it reads and writes, and checks for keys that may be missing (committer markers).
      ...listBucket(ctx.s3Bucket(rawBucket), { folders: [d.raw.prefix], existenceChecks: true }),
      ...listBucket(ctx.s3Bucket(curatedBucket), { folders: [d.target.folder, rejected], existenceChecks: true }),
      allow(
        ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        [ctx.s3Objects(curatedBucket, d.target.folder), ctx.s3Objects(curatedBucket, rejected)],
      ),
      // Issue 15: the run's row summary, its last write before success (domain/rows/job-summary.ts), this dataset's only.
      allow(['s3:PutObject'], [ctx.artifactsObjects(`${JOB_SUMMARY_PREFIX}${d.name}/`)]),
      // Issue 23 (docs/batches.md): a batch run reads its batch file and writes its result beside it.
      allow(['s3:GetObject', 's3:PutObject'], [ctx.artifactsObjects(BATCH_FOLDERS)]),
      allow(['kms:Encrypt', 'kms:Decrypt'], [ctx.keyArn]),
      allow(['cloudwatch:PutMetricData'], ['*'], { StringEquals: { 'cloudwatch:namespace': 'Glue' } }),
    ]),
    [`Job${id}`]: {
      Type: 'AWS::Glue::Job',
      Properties: {
        Name: d.job.name,
        Role: arn(`JobRole${id}`),
        Command: {
          Name: 'glueetl',
          PythonVersion: '3',
          ScriptLocation: {
            'Fn::Sub': [`s3://\${Bucket}/${script.key}`, { Bucket: ref('ServerlessDeploymentBucket') }],
          },
        },
        GlueVersion: GLUE_VERSION,
        WorkerType: config.deploy.glueWorkerType,
        NumberOfWorkers: config.deploy.glueWorkers,
        ExecutionProperty: { MaxConcurrentRuns: d.job.maxConcurrentRuns },
        Timeout: d.job.timeoutMinutes,
        // sluice retries and reports per partition; Glue's own retries would hide failures and double-write.
        MaxRetries: 0,
        SecurityConfiguration: ref('GlueSecurityConfiguration'),
        DefaultArguments: {
          '--job-bookmark-option': 'job-bookmark-disable',
          ...d.job.arguments,
        },
      },
    },
  };
}

function targetTable(ctx: StackContext, d: ResolvedDataset): Record<string, Cfn> {
  return {
    [`Table${pascal(d.name)}`]: {
      Type: 'AWS::Glue::Table',
      DependsOn: [databaseId(d.target.database)],
      Properties: {
        CatalogId: ref('AWS::AccountId'),
        DatabaseName: d.target.database,
        TableInput: {
          Name: d.target.table,
          TableType: 'EXTERNAL_TABLE',
          Parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
          PartitionKeys: d.partitioning.keys.map((k) => ({ Name: k.name, Type: PARTITION_COLUMN_TYPE[k.type] })),
          StorageDescriptor: {
            Columns: d.mapping.map((m) => ({ Name: m.target, Type: m.type })),
            // The dataset's folder; partitions live below it at the location template's paths.
            Location: `s3://${ctx.config.lake.curatedBucket}/${d.target.folder}`,
            InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          },
        },
      },
    },
  };
}
