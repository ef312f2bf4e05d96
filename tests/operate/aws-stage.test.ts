/**
 * The AWS side of the operate CLI against aws-sdk-client-mock: stack resolution (outputs, resources by logical id,
 * a stack that does not exist), paging of executions, Map runs, stack resources and log events, throttling, an
 * empty stage, and the commands (status, runs, backfill, rerun, logs) on top.
 */
import { CloudFormationClient, DescribeStacksCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  SFNClient,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { join } from 'node:path';
import { AwsStage, type AwsClients } from '../../adapters/operate/aws-stage';
import {
  backfillCommand,
  logsCommand,
  rerunCommand,
  runsCommand,
  statusCommand,
  type Io,
} from '../../adapters/operate/commands';
import { OperateError } from '../../adapters/operate/ports';
import { viewOfExits } from '../../adapters/operate/run-state';
import { loadConfigFile } from '../../domain/config';

const ROOT = join(__dirname, '..', '..');
const config = loadConfigFile(join(ROOT, 'config', 'dev.json'));
const REGION = 'eu-west-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const SM = `arn:aws:states:${REGION}:123456789012:stateMachine:sluice-dev`;
const exec = (name: string) => `arn:aws:states:${REGION}:123456789012:execution:sluice-dev:${name}`;
const NOW = new Date('2026-03-01T12:00:00Z');

const cfn = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBDocumentClient);
const logs = mockClient(CloudWatchLogsClient);

function clients(): AwsClients {
  return {
    cloudformation: new CloudFormationClient({ region: REGION, credentials }),
    sfn: new SFNClient({ region: REGION, credentials }),
    dynamodb: DynamoDBDocumentClient.from(new DynamoDBClient({ region: REGION, credentials })),
    logs: new CloudWatchLogsClient({ region: REGION, credentials }),
  };
}

const sleeps: number[] = [];
const retry = { attempts: 4, sleep: async (ms: number) => void sleeps.push(ms) };

function io(): Io & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(l), json: false, now: () => NOW, sleep: async () => undefined };
}

function stackWithOutputs() {
  cfn.on(DescribeStacksCommand, { StackName: 'sluice-dev' }).resolves({
    Stacks: [
      {
        StackName: 'sluice-dev',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: NOW,
        Outputs: [
          { OutputKey: 'StateMachineArn', OutputValue: SM },
          { OutputKey: 'StateTableName', OutputValue: 'sluice-dev-state' },
          {
            OutputKey: 'StepLogGroupNames',
            OutputValue: '/aws/lambda/sluice-dev-prepareRun,/aws/lambda/sluice-dev-startJobRun',
          },
        ],
      },
    ],
  });
}

const exited = (name: string, output: unknown, id: number): HistoryEvent => ({
  id,
  timestamp: NOW,
  type: 'TaskStateExited',
  stateExitedEventDetails: { name, output: JSON.stringify(output) },
});

const failedHistory = (dataset: string): HistoryEvent[] => [
  exited(
    'Publish the failure notification',
    {
      notification: {
        messageId: 'm-1',
        report: {
          dataset,
          stage: 'dev',
          failedStep: 'processPartitions',
          error: 'JobRunsFailed',
          cause: '2 of 5 partition job runs failed',
          failedPartitions: [],
          executionArn: exec('x'),
          consoleUrl: '',
          rerunInput: {
            dataset,
            partitions: [
              { year: '2024', month: '01', day: '02' },
              { year: '2024', month: '01', day: '04' },
            ],
            skipCrawler: true,
          },
        },
      },
    },
    30,
  ),
  exited('Summarize the partition runs', { jobResults: { succeededCount: 3, failedCount: 2 } }, 20),
];

beforeEach(() => {
  cfn.reset();
  sfn.reset();
  ddb.reset();
  logs.reset();
  sleeps.length = 0;
});

describe('resolving the stage', () => {
  test('a stage that does not exist: a clear message naming the stack and the region', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack with id sluice-dev does not exist'), { name: 'ValidationError' }));
    const error = await AwsStage.open(config, clients(), retry).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperateError);
    expect((error as Error).message).toMatch(
      /stage 'dev': the CloudFormation stack 'sluice-dev' does not exist in eu-west-1 .*sls deploy --stage dev/,
    );
  });

  test('no credentials: says so and how to get them, never asks for them', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      );
    await expect(AwsStage.open(config, clients(), retry)).rejects.toThrow(
      /^no AWS credentials to read stage 'dev' .*set AWS_PROFILE, run `aws sso login`/,
    );
  });

  test('a deleted stack is a stack that does not exist', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'sluice-dev', StackStatus: 'DELETE_COMPLETE', CreationTime: NOW }],
    });
    await expect(AwsStage.open(config, clients(), retry)).rejects.toThrow(/'sluice-dev' does not exist/);
  });

  test('without outputs, the resources are found by logical id across pages of ListStackResources', async () => {
    cfn
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'sluice-dev', StackStatus: 'CREATE_COMPLETE', CreationTime: NOW }] });
    const summary = (LogicalResourceId: string, ResourceType: string, PhysicalResourceId: string) => ({
      LogicalResourceId,
      ResourceType,
      PhysicalResourceId,
      ResourceStatus: 'CREATE_COMPLETE' as const,
      LastUpdatedTimestamp: NOW,
    });
    cfn
      .on(ListStackResourcesCommand, { StackName: 'sluice-dev', NextToken: undefined })
      .resolves({
        StackResourceSummaries: [
          summary('StateTable', 'AWS::DynamoDB::Table', 'sluice-dev-state'),
          summary('PrepareRunLogGroup', 'AWS::Logs::LogGroup', '/aws/lambda/sluice-dev-prepareRun'),
        ],
        NextToken: 'page-2',
      })
      .on(ListStackResourcesCommand, { StackName: 'sluice-dev', NextToken: 'page-2' })
      .resolves({
        StackResourceSummaries: [
          summary('SluiceStateMachine', 'AWS::StepFunctions::StateMachine', SM),
          summary('StateMachineLogGroup', 'AWS::Logs::LogGroup', '/aws/vendedlogs/states/sluice-dev'),
        ],
      });
    const stage = await AwsStage.open(config, clients(), retry);
    expect(stage.label).toBe('stage dev (stack sluice-dev, eu-west-1)');
    expect(cfn.commandCalls(ListStackResourcesCommand)).toHaveLength(2);
    // The state machine from page 2 is the one executions are listed on; log groups are the Lambdas' only.
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    await stage.runs({ limit: 5 });
    expect(sfn.commandCalls(ListExecutionsCommand)[0]?.args[0].input.stateMachineArn).toBe(SM);
    logs.on(FilterLogEventsCommand).resolves({ events: [] });
    sfn.on(DescribeExecutionCommand).resolves({ startDate: NOW, status: 'SUCCEEDED' } as never);
    await stage.logs(exec('a'));
    expect(logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input.logGroupName)).toEqual([
      '/aws/lambda/sluice-dev-prepareRun',
    ]);
  });
});

describe('an empty stage', () => {
  test('status: every configured dataset, nothing held, pending or run; runs: says there are none', async () => {
    stackWithOutputs();
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    ddb.on(GetCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    const stage = await AwsStage.open(config, clients(), retry);
    const out = io();
    expect(await statusCommand(stage, out)).toBe(0);
    expect(out.lines.slice(1, 4)).toEqual([
      'dataset  fresh  lease  pending  last run',
      'orders   never  free   none     none',
      'clicks   never  free   none     none',
    ]);
    const runs = io();
    expect(await runsCommand(stage, runs, { limit: 20 })).toBe(0);
    expect(runs.lines).toEqual(['no runs in stage dev (stack sluice-dev, eu-west-1)']);
  });
});

describe('paging', () => {
  test('executions: follows nextToken past other datasets until enough runs of the dataset are found', async () => {
    stackWithOutputs();
    const clicks = Array.from({ length: 100 }, (_, i) => ({
      executionArn: exec(`clicks-arrival-20260301110000000-c${i}`),
      stateMachineArn: SM,
      name: `clicks-arrival-20260301110000000-c${i}`,
      status: 'SUCCEEDED' as const,
      startDate: NOW,
    }));
    sfn
      .on(ListExecutionsCommand, { nextToken: undefined })
      .resolves({ executions: clicks, nextToken: 't2' })
      .on(ListExecutionsCommand, { nextToken: 't2' })
      .resolves({
        executions: [
          {
            executionArn: exec('orders-backfill-20260301100000000-o1'),
            stateMachineArn: SM,
            name: 'orders-backfill-20260301100000000-o1',
            status: 'FAILED',
            startDate: new Date('2026-03-01T10:00:00Z'),
            stopDate: new Date('2026-03-01T10:42:05Z'),
          },
        ],
        nextToken: 't3',
      });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: failedHistory('orders') });
    const stage = await AwsStage.open(config, clients(), retry);
    const out = io();
    await runsCommand(stage, out, { dataset: 'orders', limit: 1 });
    expect(sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input.nextToken)).toEqual([undefined, 't2']);
    expect(out.lines[1]).toMatch(
      /^orders-backfill-20260301100000000-o1 +orders +FAILED +2026-03-01T10:00:00Z +42m 05s +3 ok, 2 failed +processPartitions: JobRunsFailed: 2 of 5 partition job runs failed$/,
    );
    // The history is read newest first, with the data that carries the notification.
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]?.args[0].input).toMatchObject({
      reverseOrder: true,
      includeExecutionData: true,
    });
  });

  test('--failed asks Step Functions for FAILED executions only', async () => {
    stackWithOutputs();
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    const stage = await AwsStage.open(config, clients(), retry);
    await runsCommand(stage, io(), { failedOnly: true, limit: 20 });
    expect(sfn.commandCalls(ListExecutionsCommand)[0]?.args[0].input.statusFilter).toBe('FAILED');
  });

  test('an execution started by hand under another name: its dataset comes from its input', async () => {
    stackWithOutputs();
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        { executionArn: exec('my-fix'), stateMachineArn: SM, name: 'my-fix', status: 'SUCCEEDED', startDate: NOW },
      ],
    });
    sfn
      .on(DescribeExecutionCommand, { executionArn: exec('my-fix') })
      .resolves({ input: '{"dataset":"clicks","partitions":[{"dt":"2024-01-01"}]}' } as never);
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const stage = await AwsStage.open(config, clients(), retry);
    const runs = await stage.runs({ dataset: 'clicks', limit: 5 });
    expect(runs.map((r) => [r.name, r.dataset])).toEqual([['my-fix', 'clicks']]);
  });

  test('Map runs: every page of ListMapRuns, item counts summed over DescribeMapRun', async () => {
    stackWithOutputs();
    const arn = exec('orders-backfill-20260301100000000-o1');
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: NOW } as never);
    sfn
      .on(ListMapRunsCommand, { executionArn: arn, nextToken: undefined })
      .resolves({
        mapRuns: [{ mapRunArn: 'm1', executionArn: arn, stateMachineArn: `${SM}/map`, startDate: NOW }],
        nextToken: 'n2',
      })
      .on(ListMapRunsCommand, { executionArn: arn, nextToken: 'n2' })
      .resolves({ mapRuns: [{ mapRunArn: 'm2', executionArn: arn, stateMachineArn: `${SM}/map`, startDate: NOW }] });
    const counts = (succeeded: number, failed: number, running: number, pending: number) => ({
      succeeded,
      failed,
      running,
      pending,
      timedOut: 0,
      aborted: 0,
      total: succeeded + failed + running + pending,
      resultsWritten: 0,
    });
    sfn
      .on(DescribeMapRunCommand, { mapRunArn: 'm1' })
      .resolves({ itemCounts: counts(10, 1, 4, 5) } as never)
      .on(DescribeMapRunCommand, { mapRunArn: 'm2' })
      .resolves({ itemCounts: counts(2, 0, 0, 8) } as never);
    const stage = await AwsStage.open(config, clients(), retry);
    expect(await stage.progress(arn)).toEqual({
      status: 'RUNNING',
      map: { total: 30, succeeded: 12, failed: 1, running: 4, pending: 13 },
    });
  });

  test('logs: every page of every step log group, merged in time order, filtered on the execution ARN', async () => {
    stackWithOutputs();
    const arn = exec('orders-arrival-20260301100000000-o1');
    sfn.on(DescribeExecutionCommand).resolves({ startDate: NOW, stopDate: NOW, status: 'FAILED' } as never);
    const line = (ms: number, step: string, message: string) => ({
      timestamp: NOW.getTime() + ms,
      message: JSON.stringify({ level: 'INFO', message, step, executionArn: arn, service: 'sluice' }),
    });
    logs
      .on(FilterLogEventsCommand, { logGroupName: '/aws/lambda/sluice-dev-prepareRun', nextToken: undefined })
      .resolves({ events: [line(0, 'prepareRun', 'automatic run')], nextToken: 'p2' })
      .on(FilterLogEventsCommand, { logGroupName: '/aws/lambda/sluice-dev-prepareRun', nextToken: 'p2' })
      .resolves({ events: [line(3000, 'prepareRun', 'late line')] })
      .on(FilterLogEventsCommand, { logGroupName: '/aws/lambda/sluice-dev-startJobRun' })
      .resolves({ events: [line(1000, 'startJobRun', 'job run started')] });
    const stage = await AwsStage.open(config, clients(), retry);
    const out = io();
    await logsCommand(stage, out, arn);
    expect(out.lines.map((l) => l.replace(/^\S+ +INFO +/, ''))).toEqual([
      'prepareRun  automatic run',
      'startJobRun  job run started',
      'prepareRun  late line',
    ]);
    for (const call of logs.commandCalls(FilterLogEventsCommand))
      expect(call.args[0].input.filterPattern).toBe(`{ $.executionArn = "${arn}" }`);
  });
});

describe('throttling', () => {
  test('a throttled call is retried with backoff and then succeeds', async () => {
    stackWithOutputs();
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    sfn.on(ListExecutionsCommand).rejectsOnce(throttled).rejectsOnce(throttled).resolves({ executions: [] });
    const stage = await AwsStage.open(config, clients(), retry);
    expect(await stage.runs({ limit: 5 })).toEqual([]);
    expect(sfn.commandCalls(ListExecutionsCommand)).toHaveLength(3);
    expect(sleeps).toEqual([400, 800]);
  });

  test('a call that stays throttled ends in a clear message, not a stack trace', async () => {
    stackWithOutputs();
    sfn.on(ListExecutionsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const stage = await AwsStage.open(config, clients(), retry);
    await expect(stage.runs({ limit: 5 })).rejects.toThrow(
      new OperateError(
        'ListExecutions: AWS throttled the request 4 times (ThrottlingException); try again in a minute',
      ),
    );
  });

  test('the state table throttled: status retries the read through the DynamoDB adapter', async () => {
    stackWithOutputs();
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    ddb
      .on(GetCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }))
      .resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    const stage = await AwsStage.open(config, clients(), retry);
    const [orders] = await stage.status(NOW);
    expect(orders?.lease).toBeNull();
    expect(ddb.commandCalls(GetCommand).length).toBe(1 + config.datasets.length);
  });

  test('other errors are not retried', async () => {
    stackWithOutputs();
    sfn.on(ListExecutionsCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
    const stage = await AwsStage.open(config, clients(), retry);
    await expect(stage.runs({ limit: 5 })).rejects.toThrow('no');
    expect(sfn.commandCalls(ListExecutionsCommand)).toHaveLength(1);
  });
});

describe('status', () => {
  test('lease holder and since when, pending partitions and their oldest arrival, last run, freshness', async () => {
    stackWithOutputs();
    const holder = exec('orders-arrival-20260301115000000-aaaaaa');
    ddb.on(GetCommand, { Key: { pk: 'DS#orders', sk: 'LEASE' } }).resolves({
      Item: { owner: holder, expiresAt: NOW.getTime() + 3600_000 },
    });
    ddb.on(GetCommand, { Key: { pk: 'DS#clicks', sk: 'LEASE' } }).resolves({});
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'DS#orders', ':pending': 'PENDING#' } }).resolves({
      Items: [
        { pk: 'DS#orders', sk: 'PENDING#year=2024/month=01/day=07', firstAt: NOW.getTime() - 120_000, lastAt: 0 },
        { pk: 'DS#orders', sk: 'PENDING#year=2024/month=01/day=08', firstAt: NOW.getTime() - 30_000, lastAt: 0 },
      ],
    });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'DS#clicks', ':pending': 'PENDING#' } }).resolves({});
    // Issue 24: orders has one additive fingerprint on record; `status` names it with its first file.
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'SCHEMA#orders', ':fp': 'FP#' } }).resolves({
      Items: [
        {
          pk: 'SCHEMA#orders',
          sk: 'FP#00000000000000aa',
          dataset: 'orders',
          fingerprint: '00000000000000aa',
          format: 'csv',
          columns: [{ name: 'id' }, { name: 'amount' }, { name: 'channel' }],
          class: 'additive',
          newColumns: ['channel'],
          missingColumns: [],
          uncastableColumns: [],
          firstFile: 'orders/year=2026/month=03/day=01/a.csv',
          firstRun: 'run-1',
          firstSeenAt: '2026-03-01T10:00:00.000Z',
        },
      ],
    });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'SCHEMA#clicks', ':fp': 'FP#' } }).resolves({});
    sfn.on(DescribeExecutionCommand, { executionArn: holder }).resolves({
      startDate: new Date(NOW.getTime() - 10 * 60_000),
      status: 'RUNNING',
    } as never);
    const last = 'orders-arrival-20260301100000000-bbbbbb';
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        { executionArn: holder, stateMachineArn: SM, name: holder.split(':').pop(), status: 'RUNNING', startDate: NOW },
        {
          executionArn: exec(last),
          stateMachineArn: SM,
          name: last,
          status: 'SUCCEEDED',
          startDate: new Date('2026-03-01T10:00:00Z'),
          stopDate: new Date('2026-03-01T10:06:00Z'),
        },
      ],
    });
    sfn.on(GetExecutionHistoryCommand, { executionArn: holder }).resolves({ events: [] });
    sfn.on(GetExecutionHistoryCommand, { executionArn: exec(last) }).resolves({
      events: [
        exited(
          'Check the Athena registration',
          {
            debounce: { claimedAt: '2026-03-01T10:01:00Z', lastArrivalAt: '2026-03-01T10:00:00Z', partitionCount: 3 },
            refresh: { done: true, partitionCount: 3 },
          },
          40,
        ),
        exited('Summarize the partition runs', { jobResults: { succeededCount: 3, failedCount: 0 } }, 30),
      ],
    });
    const stage = await AwsStage.open(config, clients(), retry);
    const [orders, clicks] = await stage.status(NOW);
    expect(orders!.schemaDrift).toEqual([
      'orders: new column channel (not in the mapping), first in orders/year=2026/month=03/day=01/a.csv (schema 00000000000000aa)',
    ]);
    expect(clicks!.schemaDrift).toBeUndefined();
    expect(orders).toMatchObject({
      dataset: 'orders',
      lease: { holder, since: '2026-03-01T11:50:00.000Z' },
      pending: { partitions: 2, oldestArrivalAt: '2026-03-01T11:58:00.000Z' },
      lastRun: { status: 'RUNNING' },
      newestQueryableArrivalAt: '2026-03-01T10:00:00Z',
    });
    expect(clicks).toMatchObject({ lease: null, pending: null, lastRun: null, newestQueryableArrivalAt: null });
    const out = io();
    await statusCommand(stage, out);
    expect(out.lines[2]).toMatch(
      /^orders +2h 00m +orders-arrival-20260301115000000-aaaaaa for 10m 00s +2 partitions, oldest 2m 00s ago +RUNNING/,
    );
  });
});

describe('backfill and rerun start one execution', () => {
  test('backfill: one execution with the range input (issue 12 landed), and said so', async () => {
    stackWithOutputs();
    sfn.on(StartExecutionCommand).resolves({ executionArn: exec('orders-backfill-x'), startDate: NOW });
    const stage = await AwsStage.open(config, clients(), retry);
    const out = io();
    const code = await backfillCommand(stage, config, out, {
      dataset: 'orders',
      from: 'year=2024/month=01/day=30',
      to: 'year=2024/month=02/day=02',
      skipCrawler: true,
      wait: false,
      intervalMs: 0,
    });
    expect(code).toBe(0);
    const call = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(call?.stateMachineArn).toBe(SM);
    expect(call?.name).toMatch(/^orders-backfill-\d{17}-[a-z0-9]+$/);
    expect(JSON.parse(call?.input ?? '{}')).toEqual({
      dataset: 'orders',
      range: { from: { year: '2024', month: '01', day: '30' }, to: { year: '2024', month: '02', day: '02' } },
      skipCrawler: true,
    });
    expect(out.lines.join('\n')).toMatch(/4 partitions.*\nnote: sent as a range input/);
  });

  test('backfill: a range above the explicit list limit (5,000) is still one range input', async () => {
    stackWithOutputs();
    sfn.on(StartExecutionCommand).resolves({ executionArn: exec('orders-backfill-y'), startDate: NOW });
    const stage = await AwsStage.open(config, clients(), retry);
    const out = io();
    const code = await backfillCommand(stage, config, out, {
      dataset: 'orders',
      from: 'year=2000/month=01/day=01',
      to: 'year=2019/month=12/day=31',
      skipCrawler: true,
      wait: false,
      intervalMs: 0,
    });
    expect(code).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}')).toMatchObject({
      range: { from: { year: '2000' }, to: { year: '2019' } },
    });
    expect(out.lines.join('\n')).toMatch(/7305 partitions/);
  });

  test('backfill: a bad partition is refused before anything starts', async () => {
    stackWithOutputs();
    const stage = await AwsStage.open(config, clients(), retry);
    await expect(
      backfillCommand(stage, config, io(), {
        dataset: 'orders',
        from: 'year=2024/month=13/day=01',
        to: 'year=2024/month=12/day=31',
        skipCrawler: false,
        wait: false,
        intervalMs: 0,
      }),
    ).rejects.toThrow(/--from "year=2024\/month=13\/day=01": .*month/);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('rerun: a new execution with the re-run input the failure notification stored', async () => {
    stackWithOutputs();
    const failed = exec('orders-arrival-20260301100000000-cccccc');
    sfn.on(DescribeExecutionCommand, { executionArn: failed }).resolves({
      name: 'orders-arrival-20260301100000000-cccccc',
      status: 'FAILED',
      startDate: NOW,
      stopDate: NOW,
    } as never);
    sfn.on(GetExecutionHistoryCommand).resolves({ events: failedHistory('orders') });
    sfn.on(StartExecutionCommand).resolves({ executionArn: exec('orders-rerun-y'), startDate: NOW });
    const stage = await AwsStage.open(config, clients(), retry);
    const out = io();
    expect(
      await rerunCommand(stage, out, stage.executionArnFor('orders-arrival-20260301100000000-cccccc'), false, 0),
    ).toBe(0);
    const call = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(JSON.parse(call?.input ?? '{}')).toEqual({
      dataset: 'orders',
      partitions: [
        { year: '2024', month: '01', day: '02' },
        { year: '2024', month: '01', day: '04' },
      ],
      skipCrawler: true,
    });
    expect(call?.name).toMatch(/^orders-rerun-/);
    expect(out.lines[0]).toBe('rerun of orders-arrival-20260301100000000-cccccc (orders): 2 partitions');
  });

  test('rerun: refused for a run that died without a stored input, naming why', async () => {
    stackWithOutputs();
    const died = exec('orders-arrival-20260301100000000-dddddd');
    sfn.on(DescribeExecutionCommand, { executionArn: died }).resolves({
      name: 'orders-arrival-20260301100000000-dddddd',
      status: 'TIMED_OUT',
      startDate: NOW,
      stopDate: NOW,
      error: 'States.Timeout',
    } as never);
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const stage = await AwsStage.open(config, clients(), retry);
    await expect(rerunCommand(stage, io(), died, false, 0)).rejects.toThrow(
      /ended TIMED_OUT without a stored re-run input \(\(execution\): States.Timeout\)/,
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('an execution that does not exist is named', async () => {
    stackWithOutputs();
    sfn
      .on(DescribeExecutionCommand)
      .rejects(Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' }));
    const stage = await AwsStage.open(config, clients(), retry);
    await expect(stage.run(exec('nope'))).rejects.toThrow(`no execution ${exec('nope')} in stage dev`);
  });
});

describe('what a run says about itself (run-state)', () => {
  const registered = (debounce: Record<string, unknown>) => [
    { name: 'Check the Athena registration', output: { debounce, refresh: { done: true, partitionCount: 2 } } },
  ];

  test('freshness comes from the newest arrival an automatic run claimed and registered', () => {
    expect(
      viewOfExits(
        registered({ partitionCount: 2, claimedAt: '2026-03-01T10:01:00Z', lastArrivalAt: '2026-03-01T10:00:00Z' }),
      ).newestQueryableArrivalAt,
    ).toBe('2026-03-01T10:00:00Z');
    // Without the claim's lastArrivalAt: the claim time, before which every claimed object landed.
    expect(
      viewOfExits(registered({ partitionCount: 2, claimedAt: '2026-03-01T10:01:00Z' })).newestQueryableArrivalAt,
    ).toBe('2026-03-01T10:01:00Z');
  });

  test('the registration may end in its start, its token wait (issue 13) or a poll: each counts', () => {
    const debounce = { partitionCount: 1, claimedAt: '2026-03-01T10:01:00Z', lastArrivalAt: '2026-03-01T10:00:00Z' };
    for (const name of ['Register the new partitions in Athena', 'Wait for the Athena registration'])
      expect(
        viewOfExits([{ name, output: { debounce, refresh: { done: true, partitionCount: 1 } } }])
          .newestQueryableArrivalAt,
      ).toBe('2026-03-01T10:00:00Z');
  });

  test('a manual run (backfill, rerun) claims no arrival, so it makes no arrival newer', () => {
    expect(
      viewOfExits(registered({ partitionCount: 0, claimedAt: '2026-03-01T10:01:00Z' })).newestQueryableArrivalAt,
    ).toBe(undefined);
  });
});
