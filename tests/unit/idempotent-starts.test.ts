/**
 * Retry after a timeout: the first attempt started the work, then timed out; the retry must attach to that work.
 * The AWS adapters run against aws-sdk-client-mock, so the exact calls (and the absence of a second start) show.
 */
import { AthenaClient, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import {
  GetCrawlerCommand,
  GetJobRunsCommand,
  GlueClient,
  StartCrawlerCommand,
  StartJobRunCommand,
  ThrottlingException,
} from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import fc from 'fast-check';
import { AthenaQueries } from '../../adapters/aws/athena';
import { GlueCrawlers, GlueJobs } from '../../adapters/aws/glue';
import type { Deps } from '../../domain/deps';
import type { Log } from '../../domain/common';
import { startPartitionRefresh, startCrawler } from '../../domain/steps';
import { jobRunKey, RUN_KEY_ARGUMENT, startJobRun } from '../../domain/steps/jobs';
import { fakeWorld } from '../support/fakes';

const glueMock = mockClient(GlueClient);
const athenaMock = mockClient(AthenaClient);
const log: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const ARN = 'arn:aws:states:eu-west-1:1:execution:sm:e1';
const P = { year: '2024', month: '01', day: '05' };
const KEY = jobRunKey(ARN, 'year=2024/month=01/day=05');
const NOW = new Date('2024-03-01T10:00:00Z');

function awsDeps(): Deps {
  const world = fakeWorld();
  const clock = { now: () => NOW };
  return {
    ...world.deps,
    clock,
    jobs: new GlueJobs(new GlueClient({})),
    crawlers: new GlueCrawlers(new GlueClient({}), clock),
    queries: new AthenaQueries(new AthenaClient({})),
  };
}

beforeEach(() => {
  glueMock.reset();
  athenaMock.reset();
});

describe('starting a job run', () => {
  const input = { dataset: 'orders', partition: P, executionArn: ARN };

  test('the first attempt starts a run carrying the run key', async () => {
    glueMock.on(GetJobRunsCommand).resolves({ JobRuns: [] });
    glueMock.on(StartJobRunCommand).resolves({ JobRunId: 'jr_1' });
    await expect(startJobRun(input, awsDeps(), log)).resolves.toMatchObject({
      runId: 'jr_1',
      attached: false,
      runKey: KEY,
    });
    expect(glueMock.commandCalls(StartJobRunCommand)[0]?.args[0].input.Arguments?.[RUN_KEY_ARGUMENT]).toBe(KEY);
  });

  test('the retry after a timeout attaches to the live run instead of starting another', async () => {
    glueMock.on(GetJobRunsCommand).resolves({
      JobRuns: [
        { Id: 'jr_other', JobRunState: 'RUNNING', Arguments: { [RUN_KEY_ARGUMENT]: 'sk1-someone-else' } },
        { Id: 'jr_1', JobRunState: 'RUNNING', StartedOn: NOW, Arguments: { [RUN_KEY_ARGUMENT]: KEY } },
      ],
    });
    await expect(startJobRun(input, awsDeps(), log)).resolves.toMatchObject({
      runId: 'jr_1',
      attached: true,
      done: false,
    });
    expect(glueMock).not.toHaveReceivedCommand(StartJobRunCommand);
  });

  test('a retry that finds its run already succeeded reports it done', async () => {
    glueMock
      .on(GetJobRunsCommand)
      .resolves({ JobRuns: [{ Id: 'jr_1', JobRunState: 'SUCCEEDED', Arguments: { [RUN_KEY_ARGUMENT]: KEY } }] });
    await expect(startJobRun(input, awsDeps(), log)).resolves.toMatchObject({
      runId: 'jr_1',
      done: true,
      result: { ok: true, state: 'SUCCEEDED' },
    });
    expect(glueMock).not.toHaveReceivedCommand(StartJobRunCommand);
  });

  test('a retry that finds its run failed starts a new run (a retry is a retry)', async () => {
    glueMock
      .on(GetJobRunsCommand)
      .resolves({ JobRuns: [{ Id: 'jr_1', JobRunState: 'FAILED', Arguments: { [RUN_KEY_ARGUMENT]: KEY } }] });
    glueMock.on(StartJobRunCommand).resolves({ JobRunId: 'jr_2' });
    await expect(startJobRun(input, awsDeps(), log)).resolves.toMatchObject({ runId: 'jr_2', attached: false });
  });

  test('when the look-up itself fails, nothing is started and the retryable error propagates', async () => {
    glueMock.on(GetJobRunsCommand).rejects(new ThrottlingException({ message: 'slow down', $metadata: {} }));
    await expect(startJobRun(input, awsDeps(), log)).rejects.toMatchObject({ name: 'AwsThrottledError' });
    expect(glueMock).not.toHaveReceivedCommand(StartJobRunCommand);
  });
});

describe('starting the crawler', () => {
  const input = { dataset: 'orders', executionArn: ARN, requestedAt: '2024-03-01T09:59:00Z' };

  test('the first attempt starts the crawler', async () => {
    glueMock.on(GetCrawlerCommand).resolves({ Crawler: { State: 'READY' } });
    glueMock.on(StartCrawlerCommand).resolves({});
    await expect(startCrawler(input, awsDeps(), log)).resolves.toMatchObject({ started: true, attached: false });
    expect(glueMock).toHaveReceivedCommandTimes(StartCrawlerCommand, 1);
  });

  test('the retry after a timeout attaches to the crawl the first attempt started', async () => {
    // Running for 30 s: it began at 09:59:30, after the request at 09:59:00.
    glueMock.on(GetCrawlerCommand).resolves({ Crawler: { State: 'RUNNING', CrawlElapsedTime: 30_000 } });
    await expect(startCrawler(input, awsDeps(), log)).resolves.toMatchObject({
      started: true,
      attached: true,
      startedAt: '2024-03-01T09:59:30.000Z',
    });
    expect(glueMock).not.toHaveReceivedCommand(StartCrawlerCommand);
  });

  test('a retry that finds the crawl already finished attaches to its result', async () => {
    glueMock.on(GetCrawlerCommand).resolves({
      Crawler: { State: 'READY', LastCrawl: { Status: 'SUCCEEDED', StartTime: new Date('2024-03-01T09:59:10Z') } },
    });
    await expect(startCrawler(input, awsDeps(), log)).resolves.toMatchObject({ started: true, attached: true });
    expect(glueMock).not.toHaveReceivedCommand(StartCrawlerCommand);
  });
});

describe('registering partitions in Athena', () => {
  test('the retry sends the same client request token, so Athena returns the same query', async () => {
    athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    const input = { dataset: 'orders', executionArn: ARN, partitions: [P] };
    const first = await startPartitionRefresh(input, awsDeps(), log);
    const retry = await startPartitionRefresh(input, awsDeps(), log);
    const tokens = athenaMock.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.ClientRequestToken);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(retry.queryExecutionIds).toEqual(first.queryExecutionIds);
    expect(athenaMock.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input.QueryString).toContain(
      'ADD IF NOT EXISTS',
    );
  });
});

test('any sequence of start retries leaves at most one live run per partition, whatever the execution', async () => {
  const attempt = fc.record({
    partition: fc.integer({ min: 1, max: 3 }),
    execution: fc.constantFrom('e1', 'e2'),
    timesOutAfterStart: fc.boolean(),
    runsFinish: fc.constantFrom('none', 'SUCCEEDED', 'FAILED'),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(attempt, { maxLength: 30 }), async (attempts) => {
      const world = fakeWorld();
      world.jobs.script = () => ({ pollsToFinish: 1_000, finalState: 'SUCCEEDED' });
      // Another execution's run still writing the partition (a dead execution's, whose claim came back): the
      // start waits (ConcurrentRunsExceededError, retried by the ASL) rather than start a second writer.
      const start = (input: Parameters<typeof startJobRun>[0]) =>
        startJobRun(input, world.deps, log).catch((error: Error) => {
          if (error.name !== 'ConcurrentRunsExceededError') throw error;
        });
      for (const a of attempts) {
        const input = {
          dataset: 'orders',
          partition: { ...P, day: `0${a.partition}` },
          executionArn: `${ARN}-${a.execution}`,
        };
        // The step may time out after starting (the state machine then retries it): either way it is called again.
        await start(input);
        if (a.timesOutAfterStart) await start(input);
        if (a.runsFinish !== 'none')
          for (const run of world.jobs.runs) if (run.state === 'RUNNING') await world.jobs.finish(run.id, a.runsFinish);
        const alive = new Map<string, number>();
        for (const run of world.jobs.runs.filter((r) => r.state === 'RUNNING')) {
          const key = run.arguments['--sluice_partition'] ?? '';
          alive.set(key, (alive.get(key) ?? 0) + 1);
        }
        for (const count of alive.values()) expect(count).toBeLessThanOrEqual(1);
      }
    }),
    { numRuns: 100 },
  );
});
