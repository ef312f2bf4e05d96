/**
 * Issue 23 item 6, the AWS side: a deployed run's cost from its execution history, its Distributed Map's children,
 * its dataset's Glue job runs and crawls and its Athena queries (adapters/operate/run-cost.ts), on
 * aws-sdk-client-mock. What is asked of AWS is checked too: the window, the job and crawler names, the query ids.
 */
import { AthenaClient, BatchGetQueryExecutionCommand } from '@aws-sdk/client-athena';
import { GetJobRunsCommand, GlueClient, ListCrawlsCommand } from '@aws-sdk/client-glue';
import {
  DescribeMapRunCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  SFNClient,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { join } from 'node:path';
import { AwsRunCosts, modelledCostOfEvents } from '../../adapters/operate/run-cost';
import { loadConfigFile } from '../../domain/config';
import { billedJobRunDollars, billedCrawlDollars } from '../../domain/cost/run-cost-report';
import { RUN_COST_MODEL } from '../../domain/cost';

const config = loadConfigFile(join(__dirname, '..', '..', 'config', 'dev.json'));
const dataset = config.datasets[0]!;
const REGION = 'eu-west-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const EXEC = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-dev:orders-arrival-1';
const MAP_RUN = 'arn:aws:states:eu-west-1:123456789012:mapRun:sluice-dev/Process:1';
const CHILD = (i: number) => `arn:aws:states:eu-west-1:123456789012:execution:sluice-dev/Process:${i}`;
const T0 = new Date('2026-03-01T12:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const sfn = mockClient(SFNClient);
const glue = mockClient(GlueClient);
const athena = mockClient(AthenaClient);

function costs(): AwsRunCosts {
  return new AwsRunCosts(
    {
      sfn: new SFNClient({ region: REGION, credentials }),
      glue: new GlueClient({ region: REGION, credentials }),
      athena: new AthenaClient({ region: REGION, credentials }),
    },
    config,
    { childSamples: 2, now: () => at(3600) },
  );
}

const entered = (name: string, t: number): HistoryEvent => ({
  type: 'TaskStateEntered',
  timestamp: at(t),
  id: 0,
  stateEnteredEventDetails: { name },
});
const exited = (name: string, t: number, output: unknown): HistoryEvent => ({
  type: 'TaskStateExited',
  timestamp: at(t),
  id: 0,
  stateExitedEventDetails: { name, output: JSON.stringify(output) },
});

beforeEach(() => {
  sfn.reset();
  glue.reset();
  athena.reset();
  // The parent: 5 states entered over two pages, a registration returning two query ids, ended at 600 s.
  sfn.on(GetExecutionHistoryCommand, { executionArn: EXEC }).callsFake((input: { nextToken?: string }) =>
    input.nextToken
      ? {
          events: [
            entered('Register the new partitions in Athena', 500),
            exited('Register the new partitions in Athena', 501, { refresh: { queryExecutionIds: ['q1', 'q2'] } }),
            entered('Release the run lease', 590),
            { type: 'ExecutionSucceeded', timestamp: at(600), id: 0 },
          ],
        }
      : {
          events: [
            { type: 'ExecutionStarted', timestamp: at(0), id: 0 },
            entered('Validate the run request', 1),
            entered('Start the crawler', 2),
            entered('Process each partition', 100),
          ],
          nextToken: 'page-2',
        },
  );
  // The map started 10 children; the two sampled entered 6 and 8 states.
  sfn.on(ListMapRunsCommand, { executionArn: EXEC }).resolves({
    mapRuns: [{ mapRunArn: MAP_RUN, executionArn: EXEC, stateMachineArn: 'sm', startDate: at(100) }],
  });
  sfn.on(DescribeMapRunCommand, { mapRunArn: MAP_RUN }).resolves({
    executionCounts: {
      total: 10,
      pending: 0,
      running: 0,
      succeeded: 10,
      failed: 0,
      timedOut: 0,
      aborted: 0,
      resultsWritten: 10,
    },
  } as never);
  sfn.on(ListExecutionsCommand, { mapRunArn: MAP_RUN, maxResults: 2 }).resolves({
    executions: [CHILD(1), CHILD(2)].map((executionArn) => ({
      executionArn,
      stateMachineArn: 'sm',
      name: 'c',
      status: 'SUCCEEDED',
      startDate: at(100),
    })),
  });
  for (const [i, states] of [
    [1, 6],
    [2, 8],
  ] as const)
    sfn.on(GetExecutionHistoryCommand, { executionArn: CHILD(i) }).resolves({
      events: Array.from({ length: states }, (_, k) => entered(`s${k}`, 100 + k)),
    });
  // Job runs, newest first: two inside the window (one of another dataset's arguments), one before it.
  glue.on(GetJobRunsCommand, { JobName: dataset.job.name }).resolves({
    JobRuns: [
      {
        Id: 'jr3',
        StartedOn: at(200),
        ExecutionTime: 90,
        NumberOfWorkers: 2,
        WorkerType: 'G.1X',
        Arguments: { '--sluice_dataset': dataset.name },
      },
      {
        Id: 'jr2',
        StartedOn: at(150),
        DPUSeconds: 400,
        NumberOfWorkers: 10,
        WorkerType: 'G.1X',
        Arguments: { '--sluice_dataset': dataset.name },
      },
      {
        Id: 'jrX',
        StartedOn: at(160),
        ExecutionTime: 900,
        NumberOfWorkers: 2,
        WorkerType: 'G.1X',
        Arguments: { '--sluice_dataset': 'other' },
      },
      { Id: 'jr1', StartedOn: at(-100), ExecutionTime: 900, NumberOfWorkers: 2, WorkerType: 'G.1X' },
    ],
  });
  glue.on(ListCrawlsCommand, { CrawlerName: dataset.crawler.name }).resolves({
    Crawls: [
      { CrawlId: 'c2', StartTime: at(3), EndTime: at(90), DPUHour: 0.3 },
      { CrawlId: 'c1', StartTime: at(-3000), EndTime: at(-2900), DPUHour: 0.2 },
    ],
  });
  athena.on(BatchGetQueryExecutionCommand).resolves({
    QueryExecutions: [
      { QueryExecutionId: 'q1', Statistics: { DataScannedInBytes: 0 } },
      { QueryExecutionId: 'q2', Statistics: { DataScannedInBytes: 2e9 } },
    ],
  });
});

test("a run's cost: its job runs and crawl inside its window, its queries' bytes, its transitions and its map's", async () => {
  const cost = await costs().costOf(EXEC, dataset.name);
  const glueDollars =
    billedJobRunDollars({ ExecutionTime: 90, NumberOfWorkers: 2, WorkerType: 'G.1X' }) +
    billedJobRunDollars({ DPUSeconds: 400, NumberOfWorkers: 10, WorkerType: 'G.1X' });
  expect(cost.glue).toBeCloseTo(glueDollars, 12);
  expect(cost.crawler).toBeCloseTo(billedCrawlDollars({ DPUHour: 0.3 }), 12);
  expect(cost.athena).toBeCloseTo((2e9 / 1e12) * 5, 12);
  // 5 parent states + 10 children x (1 start + mean of 6 and 8).
  expect(cost.counts).toEqual({ jobRuns: 2, crawls: 1, queries: 2, transitions: 5 + 10 * (1 + 7) });
  expect(cost.stepFunctions).toBeCloseTo(85 * RUN_COST_MODEL.transitionUsd, 12);
  expect(cost.total).toBeCloseTo(cost.glue + cost.crawler + cost.athena + cost.stepFunctions, 12);
  expect(cost.basis).toBe('billed');
  expect(cost.notes).toEqual(['step functions: 10 map children, their transitions estimated from 2 of them']);
  expect(athena.commandCalls(BatchGetQueryExecutionCommand)[0]!.args[0].input).toEqual({
    QueryExecutionIds: ['q1', 'q2'],
  });
});

test('a part that cannot be read is 0 and named in the notes, never guessed', async () => {
  glue.on(GetJobRunsCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
  athena.on(BatchGetQueryExecutionCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
  const cost = await costs().costOf(EXEC, dataset.name);
  expect([cost.glue, cost.athena]).toEqual([0, 0]);
  expect(cost.notes).toEqual(
    expect.arrayContaining([
      `glue: job runs of ${dataset.job.name} not read (AccessDeniedException)`,
      'athena: 2 queries not read (AccessDeniedException)',
    ]),
  );
  expect(cost.crawler).toBeGreaterThan(0);
});

test('a local run: its job runs, its crawl and its transitions, modelled', () => {
  const cost = modelledCostOfEvents([
    { type: 'StateEntered', state: { name: 'Start the crawler' } },
    { type: 'StateExited', state: { name: 'Start the crawler', output: { crawl: { started: true } } } },
    ...[0, 1, 2].flatMap((index) => [
      {
        type: 'StateEntered',
        index,
        parentState: { name: 'Process each partition' },
        state: { name: 'Start the job run' },
      },
      {
        type: 'StateExited',
        index,
        parentState: { name: 'Process each partition' },
        state: { name: 'Start the job run', output: { job: { runId: `jr_local_${index}` } } },
      },
    ]),
  ]);
  expect(cost.counts).toEqual({ jobRuns: 3, crawls: 1, queries: 0, transitions: 4 + 3 });
  expect(cost.basis).toBe('modelled');
});
