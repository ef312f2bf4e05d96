/**
 * Glue: the security configuration, the raw and curated databases, and per dataset its crawler, job and target
 * table, each with a role scoped to that dataset's folders.
 */
import type { PartitionKeySpec } from '../../../schemas/types.generated';
import { REJECTED_FOLDER, type ResolvedDataset } from '../../../domain/config';
import { JOB_SUMMARY_PREFIX } from '../../../domain/job-summary';
import { allow, arn, pascal, ref, serviceRole, sub, type Cfn, type Family, type Statement } from './cfn';
import type { StackContext } from './context';
import { glueScriptArtifact } from './glue-script';

/** Hive/Glue column type of each partition key type the config allows (the Athena DDL quotes by the same types). */
export const PARTITION_COLUMN_TYPE: Record<PartitionKeySpec['type'], string> = {
  int: 'int',
  date: 'date',
  string: 'string',
};

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

/**
 * ListBucket on the dataset's folders. Requests that list carry s3:prefix and stay inside the folders; a GET or
 * HEAD of a missing key carries none, and S3 answers it 404 only to a caller allowed s3:ListBucket (otherwise
 * 403, which Spark's committer takes for AccessDenied), hence IfExists. Sources:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html (Permissions),
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html (s3:prefix).
 */
function listFolders(ctx: StackContext, bucket: string, folders: string[]): Statement {
  const prefixes = folders.flatMap((f) => [f, `${f}*`]);
  return allow(['s3:ListBucket'], [ctx.s3Bucket(bucket)], { StringLikeIfExists: { 's3:prefix': prefixes } });
}

function crawler(ctx: StackContext, d: ResolvedDataset): Record<string, Cfn> {
  const id = pascal(d.name);
  const rawDatabase = ctx.config.names.rawDatabase;
  const rawBucket = ctx.config.lake.rawBucket;
  return {
    [`CrawlerRole${id}`]: glueRole(ctx, [
      listFolders(ctx, rawBucket, [d.raw.prefix]),
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
  return {
    [`JobRole${id}`]: glueRole(ctx, [
      allow(['s3:GetObject'], [ctx.s3Objects(rawBucket, d.raw.prefix)]),
      allow(['s3:GetObject'], [{ 'Fn::Join': ['', [arn('ServerlessDeploymentBucket'), `/${script.key}`]] }]),
      listFolders(ctx, rawBucket, [d.raw.prefix]),
      listFolders(ctx, curatedBucket, [d.target.folder, rejected]),
      allow(
        ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        [ctx.s3Objects(curatedBucket, d.target.folder), ctx.s3Objects(curatedBucket, rejected)],
      ),
      // Issue 15: the run's row summary, its last write before success (domain/job-summary.ts), this dataset's only.
      allow(['s3:PutObject'], [ctx.artifactsObjects(`${JOB_SUMMARY_PREFIX}${d.name}/`)]),
      allow(['kms:Encrypt'], [ctx.keyArn]),
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
