/**
 * The loopback fakes speak each service's wire protocol: the real SDK v3 clients, configured only through
 * AWS_ENDPOINT_URL_<SERVICE> as the bundles are, parse their answers and their errors into the SDK's own names.
 */
import { AthenaClient, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { GlueClient, StartCrawlerCommand, StartJobRunCommand } from '@aws-sdk/client-glue';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { faults, startAwsFakes, type AwsFakes } from '../support/aws-fakes';

let fakes: AwsFakes;
const saved = { ...process.env };

beforeAll(async () => {
  fakes = await startAwsFakes('eu-west-1');
  Object.assign(process.env, fakes.env);
});

afterAll(async () => {
  for (const key of Object.keys(fakes.env)) delete process.env[key];
  Object.assign(process.env, saved);
  await fakes.stop();
});

const client = <T>(make: (config: { maxAttempts: number }) => T): T => make({ maxAttempts: 1 });

test('Glue: a run starts; ConcurrentRunsExceeded and CrawlerRunning arrive as the SDK names them', async () => {
  const glue = client((c) => new GlueClient(c));
  await expect(glue.send(new StartJobRunCommand({ JobName: 'j', Arguments: { a: 'b' } }))).resolves.toMatchObject({
    JobRunId: 'jr_00000001',
  });
  fakes.server.failNext('glue', 'StartJobRun', faults.concurrentRunsExceeded('j'));
  await expect(glue.send(new StartJobRunCommand({ JobName: 'j' }))).rejects.toMatchObject({
    name: 'ConcurrentRunsExceededException',
    $metadata: { httpStatusCode: 400 },
  });
  await glue.send(new StartCrawlerCommand({ Name: 'c' }));
  await expect(glue.send(new StartCrawlerCommand({ Name: 'c' }))).rejects.toMatchObject({
    name: 'CrawlerRunningException',
  });
  fakes.server.failNext('glue', 'StartJobRun', faults.throttling());
  await expect(glue.send(new StartJobRunCommand({ JobName: 'j' }))).rejects.toMatchObject({
    name: 'ThrottlingException',
  });
  glue.destroy();
});

test('Athena: InvalidRequestException with its AthenaErrorCode', async () => {
  const athena = client((c) => new AthenaClient(c));
  fakes.server.failNext('athena', 'StartQueryExecution', faults.athenaInvalidRequest('bad DDL'));
  await expect(
    athena.send(new StartQueryExecutionCommand({ QueryString: 'x', ClientRequestToken: 't'.repeat(40) })),
  ).rejects.toMatchObject({ name: 'InvalidRequestException', AthenaErrorCode: 'INVALID_INPUT', message: 'bad DDL' });
  athena.destroy();
});

test('SNS (awsQuery): Publish answers its MessageId, and a subject SNS refuses is InvalidParameter', async () => {
  const sns = client((c) => new SNSClient(c));
  const topic = 'arn:aws:sns:eu-west-1:123456789012:t';
  await expect(sns.send(new PublishCommand({ TopicArn: topic, Subject: 'ok', Message: 'm' }))).resolves.toMatchObject({
    MessageId: 'msg-1',
  });
  await expect(
    sns.send(new PublishCommand({ TopicArn: topic, Subject: 'x'.repeat(100), Message: 'm' })),
  ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  await expect(sns.send(new PublishCommand({ TopicArn: topic, Subject: 'a\nb', Message: 'm' }))).rejects.toMatchObject({
    name: 'InvalidParameterException',
  });
  sns.destroy();
});

test('Step Functions (awsJson1_0): the same name with another input is ExecutionAlreadyExists', async () => {
  const sfn = client((c) => new SFNClient(c));
  const stateMachineArn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:sm';
  await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'n', input: '{}' }));
  await expect(
    sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'n', input: '{"a":1}' })),
  ).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
  sfn.destroy();
});

test('SQS (awsJson1_0): send and receive, with the MD5 digests the SDK checks', async () => {
  const sqs = client((c) => new SQSClient(c));
  const QueueUrl = `${fakes.server.url}/123456789012/q`;
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
  const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
  expect(Messages?.map((m) => m.Body)).toEqual(['hello']);
  sqs.destroy();
});
