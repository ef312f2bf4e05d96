import { AthenaClient, GetQueryExecutionCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import {
  ConcurrentRunsExceededException,
  CrawlerRunningException,
  EntityNotFoundException,
  GetCrawlerCommand,
  GetJobRunCommand,
  GetJobRunsCommand,
  GlueClient,
  StartCrawlerCommand,
  StartJobRunCommand,
  ThrottlingException,
} from '@aws-sdk/client-glue';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AthenaQueries } from '../../adapters/aws/athena';
import { GlueCrawlers, GlueJobs } from '../../adapters/aws/glue';
import { SfnExecutions } from '../../adapters/aws/sfn';
import { SnsNotifier } from '../../adapters/aws/sns';
import { mapAwsError } from '../../adapters/aws/errors';

const glueMock = mockClient(GlueClient);
const athenaMock = mockClient(AthenaClient);
const snsMock = mockClient(SNSClient);
const sfnMock = mockClient(SFNClient);
const clock = { now: () => new Date('2024-03-01T10:00:00Z') };
const meta = { $metadata: {} };

beforeEach(() => {
  glueMock.reset();
  athenaMock.reset();
  snsMock.reset();
  sfnMock.reset();
});

describe('Glue crawler adapter', () => {
  const crawlers = () => new GlueCrawlers(new GlueClient({}), clock);

  test('starts the named crawler', async () => {
    glueMock.on(StartCrawlerCommand).resolves({});
    await expect(crawlers().startCrawler('c1')).resolves.toBe('started');
    expect(glueMock).toHaveReceivedCommandWith(StartCrawlerCommand, { Name: 'c1' });
  });

  test('reports CrawlerRunningException as already running', async () => {
    glueMock.on(StartCrawlerCommand).rejects(new CrawlerRunningException({ message: 'busy', ...meta }));
    await expect(crawlers().startCrawler('c1')).resolves.toBe('already-running');
  });

  test('derives the running crawl start from CrawlElapsedTime and reads the last crawl', async () => {
    glueMock.on(GetCrawlerCommand).resolves({
      Crawler: {
        State: 'RUNNING',
        CrawlElapsedTime: 60_000,
        LastCrawl: { Status: 'FAILED', StartTime: new Date('2024-03-01T08:00:00Z'), ErrorMessage: 'boom' },
      },
    });
    await expect(crawlers().getCrawlerStatus('c1')).resolves.toEqual({
      state: 'RUNNING',
      currentCrawlStartedAt: '2024-03-01T09:59:00.000Z',
      lastCrawl: { status: 'FAILED', startedAt: '2024-03-01T08:00:00.000Z', errorMessage: 'boom' },
    });
  });

  test('maps a missing crawler to GlueEntityNotFoundError', async () => {
    glueMock.on(GetCrawlerCommand).rejects(new EntityNotFoundException({ message: 'no such crawler', ...meta }));
    await expect(crawlers().getCrawlerStatus('c1')).rejects.toMatchObject({ name: 'GlueEntityNotFoundError' });
  });
});

describe('Glue job adapter', () => {
  const jobs = () => new GlueJobs(new GlueClient({}));

  test('starts a run with the arguments given', async () => {
    glueMock.on(StartJobRunCommand).resolves({ JobRunId: 'jr_1' });
    await expect(jobs().startJobRun('j', { '--a': '1' })).resolves.toBe('jr_1');
    expect(glueMock).toHaveReceivedCommandWith(StartJobRunCommand, { JobName: 'j', Arguments: { '--a': '1' } });
  });

  test('maps ConcurrentRunsExceededException to the retryable ConcurrentRunsExceededError', async () => {
    glueMock.on(StartJobRunCommand).rejects(new ConcurrentRunsExceededException({ message: 'max', ...meta }));
    await expect(jobs().startJobRun('j', {})).rejects.toMatchObject({
      name: 'ConcurrentRunsExceededError',
      retryable: true,
    });
  });

  test('maps throttling to the retryable AwsThrottledError', async () => {
    glueMock.on(GetJobRunCommand).rejects(new ThrottlingException({ message: 'slow down', ...meta }));
    await expect(jobs().getJobRun('j', 'jr_1')).rejects.toMatchObject({ name: 'AwsThrottledError' });
  });

  test('reads a run state and its error message', async () => {
    glueMock
      .on(GetJobRunCommand)
      .resolves({ JobRun: { Id: 'jr_1', JobRunState: 'TIMEOUT', ErrorMessage: 'too slow', Arguments: {} } });
    await expect(jobs().getJobRun('j', 'jr_1')).resolves.toMatchObject({
      id: 'jr_1',
      state: 'TIMEOUT',
      errorMessage: 'too slow',
    });
  });

  test('pages through recent runs and stops at the bound', async () => {
    const page = (from: number, next?: string) => ({
      JobRuns: Array.from({ length: 200 }, (_, i) => ({
        Id: `jr_${from + i}`,
        JobRunState: 'SUCCEEDED' as const,
        Arguments: {},
      })),
      NextToken: next,
    });
    glueMock.on(GetJobRunsCommand).resolvesOnce(page(0, 't1')).resolvesOnce(page(200, 't2')).resolves(page(400));
    const runs = await jobs().listRecentJobRuns('j', 300);
    expect(runs).toHaveLength(300);
    expect(glueMock).toHaveReceivedCommandTimes(GetJobRunsCommand, 2);
    expect(glueMock.commandCalls(GetJobRunsCommand)[1]?.args[0].input).toMatchObject({ JobName: 'j', NextToken: 't1' });
  });
});

describe('Athena adapter', () => {
  test('starts a query with database, workgroup and client request token', async () => {
    athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    const q = new AthenaQueries(new AthenaClient({}));
    await expect(
      q.startQuery({ sql: 'ALTER TABLE t ADD', database: 'db', workgroup: 'wg', clientRequestToken: 'x'.repeat(64) }),
    ).resolves.toBe('q1');
    expect(athenaMock).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      QueryString: 'ALTER TABLE t ADD',
      QueryExecutionContext: { Database: 'db' },
      WorkGroup: 'wg',
      ClientRequestToken: 'x'.repeat(64),
    });
  });

  test('reads the state and the reason of a failed query', async () => {
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolves({ QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'bad DDL' } } });
    await expect(new AthenaQueries(new AthenaClient({})).getQuery('q1')).resolves.toEqual({
      state: 'FAILED',
      reason: 'bad DDL',
    });
  });

  test('maps InvalidRequestException on start to AthenaQueryFailedError', () => {
    expect(
      mapAwsError(Object.assign(new Error('syntax'), { name: 'InvalidRequestException' }), 'Athena StartQueryExecution')
        .name,
    ).toBe('AthenaQueryFailedError');
  });
});

describe('SNS adapter', () => {
  test('publishes subject, message and string attributes to the topic', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'm1' });
    const n = new SnsNotifier(new SNSClient({}), 'arn:aws:sns:eu-west-1:1:t');
    await expect(n.publish({ subject: 's', message: 'm', attributes: { dataset: 'orders' } })).resolves.toBe('m1');
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: 'arn:aws:sns:eu-west-1:1:t',
      Subject: 's',
      Message: 'm',
      MessageAttributes: { dataset: { DataType: 'String', StringValue: 'orders' } },
    });
  });
});

describe('Step Functions adapter', () => {
  const sm = 'arn:aws:states:eu-west-1:1:stateMachine:sluice-dev';
  test('starts a named execution whose ARN is known in advance', async () => {
    sfnMock
      .on(StartExecutionCommand)
      .resolves({ executionArn: `arn:aws:states:eu-west-1:1:execution:sluice-dev:n1`, startDate: new Date() });
    const s = new SfnExecutions(new SFNClient({}), sm);
    expect(s.executionArnFor('n1')).toBe('arn:aws:states:eu-west-1:1:execution:sluice-dev:n1');
    await s.startExecution('n1', { dataset: 'orders', trigger: 'arrival' });
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: sm,
      name: 'n1',
      input: '{"dataset":"orders","trigger":"arrival"}',
    });
  });

  test('treats ExecutionAlreadyExists as our own earlier start', async () => {
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', ...meta }));
    await expect(
      new SfnExecutions(new SFNClient({}), sm).startExecution('n1', { dataset: 'orders', trigger: 'arrival' }),
    ).resolves.toContain(':n1');
  });
});
