/**
 * AWS wiring for the step Lambdas: clients and adapters are built on first use, once per container,
 * from environment variables that serverless.yml sets.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfigFile, type ResolvedConfig } from '../../domain/config';
import { ConfigError, type Clock } from '../../domain/common';
import type { Deps } from '../../domain/deps';
import { emfMetrics } from '../lambda/step';
import { S3ArtifactStore } from './artifact-store';
import { AthenaQueries } from './athena';
import { DynamoArrivalLedger, DynamoRunLeases } from './dynamo-state';
import { GlueCrawlers, GlueJobs } from './glue';
import { S3Objects } from './s3';
import { AwsDrift } from './schema-drift';
import { SfnExecutions } from './sfn';
import { SnsNotifier } from './sns';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

export function consoleUrlFor(region: string) {
  return (executionArn: string): string =>
    `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

const systemClock: Clock = { now: () => new Date() };

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

let cached: Deps | undefined;

export function awsDeps(): Deps {
  if (cached) return cached;
  const config: ResolvedConfig = loadConfigFile(env('SLUICE_CONFIG_FILE'));
  const region = process.env.AWS_REGION ?? config.region;
  const glue = lazy(() => new GlueClient({ region }));
  const doc = lazy(() => DynamoDBDocumentClient.from(new DynamoDBClient({ region })));
  const crawlers = lazy(() => new GlueCrawlers(glue(), systemClock));
  const jobs = lazy(() => new GlueJobs(glue()));
  const queries = lazy(() => new AthenaQueries(new AthenaClient({ region })));
  const notifier = lazy(() => new SnsNotifier(new SNSClient({ region }), env('SLUICE_TOPIC_ARN')));
  const arrivals = lazy(() => new DynamoArrivalLedger(doc(), env('SLUICE_TABLE_NAME')));
  const leases = lazy(() => new DynamoRunLeases(doc(), env('SLUICE_TABLE_NAME')));
  const executions = lazy(() => new SfnExecutions(new SFNClient({ region }), env('SLUICE_STATE_MACHINE_ARN')));
  const s3 = lazy(() => new S3Client({ region }));
  const objects = lazy(() => new S3Objects(s3()));
  // Issue 12: partition lists, ResultWriter output and the succeeded/failed lists, by reference.
  const artifacts = lazy(() => new S3ArtifactStore(s3(), env('SLUICE_ARTIFACTS_BUCKET')));
  // Issue 24: schemas by ranged reads, the crawled raw table, the fingerprint items (not the protocol's).
  const drift = lazy(() => new AwsDrift(s3(), glue(), doc(), env('SLUICE_TABLE_NAME')));
  cached = {
    config,
    clock: systemClock,
    get crawlers() {
      return crawlers();
    },
    get jobs() {
      return jobs();
    },
    get queries() {
      return queries();
    },
    get notifier() {
      return notifier();
    },
    get arrivals() {
      return arrivals();
    },
    get leases() {
      return leases();
    },
    get executions() {
      return executions();
    },
    get objects() {
      return objects();
    },
    get artifacts() {
      return artifacts();
    },
    get drift() {
      return drift();
    },
    // Issue 15: metrics the cores record themselves (the rows of a job run), as EMF lines.
    metrics: emfMetrics(config.stage),
    consoleUrl: consoleUrlFor(region),
  };
  return cached;
}
