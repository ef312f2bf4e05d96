/**
 * Every AWS service the packaged bundles call, on loopback: moto's DynamoDB (transactions included, which dynalite
 * lacks and the run protocol uses), protocol-level fakes for the rest.
 * `env` is what a Lambda container needs so that the bundles' SDK clients talk to them: AWS SDK v3 reads
 * AWS_ENDPOINT_URL_<SERVICE> (service-specific endpoints), plus fake credentials and a region.
 */
import { startMoto } from '../moto';
import { FakeAthena } from './athena';
import { FakeGlue } from './glue';
import { FakeS3 } from './s3';
import { AwsFault, FakeAwsServer, type Fault } from './server';
import { FakeSfn } from './sfn';
import { FakeSns } from './sns';
import { FakeSqs } from './sqs';

export { AwsFault, FakeAwsServer, type Fault } from './server';

export interface AwsFakes {
  server: FakeAwsServer;
  glue: FakeGlue;
  athena: FakeAthena;
  sns: FakeSns;
  sfn: FakeSfn;
  sqs: FakeSqs;
  /** S3 (REST-XML) on its own loopback port, path-style: see s3.ts. Buckets exist once `s3.createBucket(name)`. */
  s3: FakeS3;
  dynamoUrl: string;
  env: Record<string, string>;
  /** Back to a clean world between scenarios (DynamoDB keeps its items: use fresh keys). */
  reset(): void;
  stop(): Promise<void>;
}

export async function startAwsFakes(region: string): Promise<AwsFakes> {
  const server = new FakeAwsServer();
  const glue = new FakeGlue();
  const athena = new FakeAthena();
  const sns = new FakeSns();
  const sfn = new FakeSfn();
  const sqs = new FakeSqs();
  for (const fake of [glue, athena, sns, sfn, sqs]) fake.register(server);
  await server.start();
  const s3 = new FakeS3(server);
  await s3.start();
  glue.summaries = (bucket, key, body) => s3.put(bucket, key, body, 'application/json');
  glue.objects = (bucket, key) => s3.text(bucket, key);
  const dynamo = await startMoto();
  const dynamoUrl = dynamo.endpoint;
  const env = {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret',
    AWS_SESSION_TOKEN: 'fake-session',
    AWS_ENDPOINT_URL_DYNAMODB: dynamoUrl,
    AWS_ENDPOINT_URL_GLUE: server.url,
    AWS_ENDPOINT_URL_ATHENA: server.url,
    AWS_ENDPOINT_URL_SNS: server.url,
    AWS_ENDPOINT_URL_SFN: server.url,
    AWS_ENDPOINT_URL_SQS: server.url,
    AWS_ENDPOINT_URL_S3: s3.url,
  };
  return {
    server,
    glue,
    athena,
    sns,
    sfn,
    sqs,
    s3,
    dynamoUrl,
    env,
    reset() {
      server.reset();
      for (const fake of [glue, athena, sns, sfn, sqs, s3]) fake.reset();
    },
    async stop() {
      await server.stop();
      await s3.stop();
      await dynamo.stop();
    },
  };
}

/** AWS's error shapes, ready for `server.failNext`. */
export const faults = {
  throttling: (): Fault => ({ kind: 'error', fault: () => new AwsFault('ThrottlingException', 'Rate exceeded') }),
  concurrentRunsExceeded: (job: string): Fault => ({
    kind: 'error',
    fault: () => new AwsFault('ConcurrentRunsExceededException', `Concurrent runs exceeded for ${job}`),
  }),
  crawlerRunning: (crawler: string): Fault => ({
    kind: 'error',
    fault: () => new AwsFault('CrawlerRunningException', `Crawler with name ${crawler} has already started`),
  }),
  entityNotFound: (what: string): Fault => ({
    kind: 'error',
    fault: () => new AwsFault('EntityNotFoundException', `${what} not found`),
  }),
  athenaInvalidRequest: (message: string): Fault => ({
    kind: 'error',
    fault: () => new AwsFault('InvalidRequestException', message, 400, { AthenaErrorCode: 'INVALID_INPUT' }),
  }),
  /** The request gets no answer: the Lambda that sent it runs into its timeout. */
  hang: (): Fault => ({ kind: 'hang' }),
  /** The service does the work, but its answer is lost: the Lambda times out after the effect. */
  lostAnswer: (): Fault => ({ kind: 'lost-answer' }),
};
