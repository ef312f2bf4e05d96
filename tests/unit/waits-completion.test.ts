/**
 * The completion Lambda (issue 13) over the AWS adapters with aws-sdk-client-mock: Glue/Athena answer the one
 * check, Step Functions answers SendTaskSuccess/SendTaskFailure. The wait store is the in-memory one (the DynamoDB
 * store has its own suite on dynalite).
 */
import { AthenaClient, GetQueryExecutionCommand } from '@aws-sdk/client-athena';
import { GetCrawlerCommand, GetJobRunCommand, GlueClient, type JobRunState } from '@aws-sdk/client-glue';
import {
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AthenaQueries } from '../../adapters/aws/athena';
import { GlueCrawlers, GlueJobs } from '../../adapters/aws/glue';
import { SfnTaskTokens } from '../../adapters/aws/task-tokens';
import { invokeWaitStep } from '../../adapters/lambda/wait-handler';
import { MemoryRecheckQueue, MemoryWaitStore } from '../../adapters/memory/waits';
import type { Deps } from '../../domain/deps';
import { validate } from '../../domain/common';
import type { WaitDeps } from '../../domain/waits';
import { awaitCompletion, completeFromEvent, recheckWait } from '../../domain/waits/completion';
import { recheckDelaySeconds, RECHECK_GROWTH } from '../../domain/config/polling';
import { step as awaitJobRunStep } from '../../functions/await-job-run';
import { step as completeWaitStep } from '../../functions/complete-wait';
import type { CompletionReport } from '../../schemas/types.generated';
import { fakeWorld, type FakeWorld } from '../support/fakes';
import {
  athenaEvent,
  awaitCrawlerInput,
  awaitJobInput,
  awaitRefreshInput,
  crawlerEvent,
  crawlerNameOf,
  glueJobEvent,
  jobNameOf,
  PARTITION,
  recordingLog,
} from '../support/waits';

const glueMock = mockClient(GlueClient);
const athenaMock = mockClient(AthenaClient);
const sfnMock = mockClient(SFNClient);
const meta = { $metadata: {} };
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAXtoken-1';

interface Setup {
  world: FakeWorld;
  deps: Deps;
  waitDeps: WaitDeps & { waits: MemoryWaitStore; rechecks: MemoryRecheckQueue };
}

function setup(): Setup {
  const world = fakeWorld();
  const glue = new GlueClient({ region: 'eu-west-1' });
  const deps: Deps = {
    ...world.deps,
    jobs: new GlueJobs(glue),
    crawlers: new GlueCrawlers(glue, world.clock),
    queries: new AthenaQueries(new AthenaClient({ region: 'eu-west-1' })),
  };
  const waitDeps = {
    waits: new MemoryWaitStore(),
    tokens: new SfnTaskTokens(new SFNClient({ region: 'eu-west-1' })),
    rechecks: new MemoryRecheckQueue(),
  };
  return { world, deps, waitDeps };
}

const jobRun = (state: JobRunState, errorMessage?: string) => ({
  JobRun: {
    Id: 'jr_1',
    JobRunState: state,
    StartedOn: new Date('2024-03-01T10:00:00Z'),
    Arguments: {},
    ...(errorMessage ? { ErrorMessage: errorMessage } : {}),
  },
});

/** Records a job wait while Glue still says RUNNING (so the await step itself sends nothing). */
async function recordJobWait(s: Setup, token = TOKEN): Promise<void> {
  glueMock.on(GetJobRunCommand).resolvesOnce(jobRun('RUNNING'));
  await invokeWaitStep(awaitJobRunStep, awaitJobInput('jr_1', token), s.deps, s.waitDeps);
  expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
}

const complete = (s: Setup, event: unknown) =>
  invokeWaitStep(completeWaitStep, event, s.deps, s.waitDeps) as Promise<CompletionReport>;

beforeEach(() => {
  glueMock.reset();
  athenaMock.reset();
  sfnMock.reset();
});

describe('completion by a Glue Job State Change event', () => {
  test('SendTaskSuccess carries exactly what the Check step returns', async () => {
    const s = setup();
    await recordJobWait(s);
    glueMock.on(GetJobRunCommand).resolves(jobRun('SUCCEEDED'));
    sfnMock.on(SendTaskSuccessCommand).resolves(meta);

    const report = await complete(s, glueJobEvent(jobNameOf(s.world), 'jr_1', 'SUCCEEDED'));

    expect(report.deliveries).toEqual([{ waiterId: 'job-sk1-jr_1', delivery: 'sent' }]);
    expect(glueMock).toHaveReceivedCommandTimes(GetJobRunCommand, 2); // the await's check + the completion's one
    expect(glueMock).toHaveReceivedCommandWith(GetJobRunCommand, { JobName: jobNameOf(s.world), RunId: 'jr_1' });
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    const sent = sfnMock.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input;
    expect(sent.taskToken).toBe(TOKEN);
    const output = JSON.parse(sent.output ?? 'null') as unknown;
    expect(output).toEqual({
      ...awaitJobInput('jr_1', TOKEN).job,
      done: true,
      waitSeconds: 0,
      result: { partition: PARTITION, ok: true, state: 'SUCCEEDED' },
    });
    expect(() => validate('JobRunState', output, 'output')).not.toThrow();
  });

  test("a failed run is a result, as in the poll loop: SendTaskSuccess with ok false and Glue's message", async () => {
    const s = setup();
    await recordJobWait(s);
    glueMock.on(GetJobRunCommand).resolves(jobRun('FAILED', 'OutOfMemoryError: Java heap space'));
    sfnMock.on(SendTaskSuccessCommand).resolves(meta);

    await complete(s, glueJobEvent(jobNameOf(s.world), 'jr_1', 'FAILED'));

    const output = JSON.parse(sfnMock.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output ?? '{}') as {
      result: unknown;
    };
    expect(output.result).toEqual({
      partition: PARTITION,
      ok: false,
      state: 'FAILED',
      message: 'OutOfMemoryError: Java heap space',
    });
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  test('an event ahead of the API (GetJobRun still RUNNING) sends nothing and leaves the token waiting', async () => {
    const s = setup();
    await recordJobWait(s);
    glueMock.on(GetJobRunCommand).resolves(jobRun('RUNNING'));

    const report = await complete(s, glueJobEvent(jobNameOf(s.world), 'jr_1', 'SUCCEEDED'));

    expect(report.deliveries).toEqual([{ waiterId: 'job-sk1-jr_1', delivery: 'still-running' }]);
    expect(sfnMock).not.toHaveReceivedAnyCommand();
    expect((await s.waitDeps.waits.waitersOf(`job#${jobNameOf(s.world)}#jr_1`))[0]?.sentAt).toBeUndefined();
  });

  test('a duplicate event answers nothing twice: no second check, no second send', async () => {
    const s = setup();
    await recordJobWait(s);
    glueMock.on(GetJobRunCommand).resolves(jobRun('SUCCEEDED'));
    sfnMock.on(SendTaskSuccessCommand).resolves(meta);
    const event = glueJobEvent(jobNameOf(s.world), 'jr_1', 'SUCCEEDED');

    await complete(s, event);
    const again = await complete(s, event);

    expect(again.deliveries).toEqual([{ waiterId: 'job-sk1-jr_1', delivery: 'already-sent' }]);
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(glueMock).toHaveReceivedCommandTimes(GetJobRunCommand, 2);
  });

  test("the Check's metrics are recorded once, by the delivery that closed the token", async () => {
    const s = setup();
    const names: string[] = [];
    s.deps.metrics = { record: (points) => names.push(...points.map((p) => p.name)) };
    await recordJobWait(s);
    glueMock.on(GetJobRunCommand).resolves(jobRun('SUCCEEDED'));
    sfnMock.on(SendTaskSuccessCommand).resolves(meta);
    const event = glueJobEvent(jobNameOf(s.world), 'jr_1', 'SUCCEEDED');

    await complete(s, event);
    await complete(s, event);

    expect(names.filter((n) => n === 'JobDuration')).toHaveLength(1);
  });

  test('a delivery refused because the token is closed records no metrics', async () => {
    const s = setup();
    const names: string[] = [];
    s.deps.metrics = { record: (points) => names.push(...points.map((p) => p.name)) };
    await recordJobWait(s);
    glueMock.on(GetJobRunCommand).resolves(jobRun('SUCCEEDED'));
    sfnMock
      .on(SendTaskSuccessCommand)
      .rejects(Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut', $metadata: {} }));

    await complete(s, glueJobEvent(jobNameOf(s.world), 'jr_1', 'SUCCEEDED'));

    expect(names).toEqual([]);
  });

  test('an event nobody waits for (another job, or before the token is recorded) makes no API call', async () => {
    const s = setup();
    const report = await complete(s, glueJobEvent('someone-elses-job', 'jr_9', 'SUCCEEDED'));
    expect(report).toEqual({
      subject: 'job#someone-elses-job#jr_9',
      deliveries: [],
      ignored: 'no waiter recorded for this subject',
    });
    expect(glueMock).not.toHaveReceivedAnyCommand();
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });
});

describe('tokens that are no longer open: no crash, logged', () => {
  test.each([
    [
      'TaskTimedOut (timed out, or already closed)',
      new TaskTimedOut({ message: 'Task Timed Out', ...meta }),
      'token-closed',
    ],
    ['InvalidToken (unknown token)', new InvalidToken({ message: 'Invalid token', ...meta }), 'token-invalid'],
    ['TaskDoesNotExist', new TaskDoesNotExist({ message: 'Task does not exist', ...meta }), 'task-missing'],
  ])('%s', async (_name, error, delivery) => {
    const s = setup();
    await recordJobWait(s);
    glueMock.on(GetJobRunCommand).resolves(jobRun('SUCCEEDED'));
    sfnMock.on(SendTaskSuccessCommand).rejects(error);
    const log = recordingLog();

    const report = await completeFromEvent(
      glueJobEvent(jobNameOf(s.world), 'jr_1', 'SUCCEEDED'),
      s.deps,
      s.waitDeps,
      log,
    );

    expect(report.deliveries).toEqual([{ waiterId: 'job-sk1-jr_1', delivery }]);
    expect(log.lines).toContainEqual({
      level: 'warn',
      message: 'task token already closed; nothing to complete',
      extra: { waiterId: 'job-sk1-jr_1', delivery },
    });
    // Answered is answered: a later duplicate does not try again.
    const again = await completeFromEvent(
      glueJobEvent(jobNameOf(s.world), 'jr_1', 'SUCCEEDED'),
      s.deps,
      s.waitDeps,
      log,
    );
    expect(again.deliveries[0]?.delivery).toBe('already-sent');
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  test('a throttled SendTaskSuccess is retryable (AwsThrottledError) and leaves the waiter unanswered', async () => {
    const s = setup();
    await recordJobWait(s);
    glueMock.on(GetJobRunCommand).resolves(jobRun('SUCCEEDED'));
    sfnMock
      .on(SendTaskSuccessCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    await expect(complete(s, glueJobEvent(jobNameOf(s.world), 'jr_1', 'SUCCEEDED'))).rejects.toMatchObject({
      name: 'AwsThrottledError',
    });
    expect((await s.waitDeps.waits.waitersOf(`job#${jobNameOf(s.world)}#jr_1`))[0]?.sentAt).toBeUndefined();
  });
});

describe('crawler and Athena waits', () => {
  const requestedAt = '2024-03-01T10:00:00.000Z';

  test('a crawler Started event is ignored without any API call', async () => {
    const s = setup();
    const report = await complete(s, crawlerEvent(crawlerNameOf(s.world), 'Started'));
    expect(report.ignored).toMatch(/crawl started/);
    expect(glueMock).not.toHaveReceivedAnyCommand();
  });

  test("a failed crawl fails the Task with the Check step's error name and the crawler's message", async () => {
    const s = setup();
    glueMock.on(GetCrawlerCommand).resolvesOnce({ Crawler: { State: 'RUNNING', CrawlElapsedTime: 1000 } });
    await awaitCompletion(
      {
        kind: 'crawler',
        input: (({ taskToken: _t, ...rest }) => rest)(awaitCrawlerInput(s.world, TOKEN, requestedAt)),
      },
      TOKEN,
      s.deps,
      s.waitDeps,
      recordingLog(),
    );
    glueMock.on(GetCrawlerCommand).resolves({
      Crawler: {
        State: 'READY',
        LastCrawl: {
          Status: 'FAILED',
          StartTime: new Date('2024-03-01T10:00:05Z'),
          ErrorMessage: 'Internal Service Exception',
        },
      },
    });
    sfnMock.on(SendTaskFailureCommand).resolves(meta);

    const report = await complete(s, crawlerEvent(crawlerNameOf(s.world), 'Failed'));

    expect(report.deliveries[0]?.delivery).toBe('sent');
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: TOKEN,
      error: 'CrawlerFailedError',
      cause: `crawler ${crawlerNameOf(s.world)} ended FAILED: Internal Service Exception`,
    });
  });

  test('Athena: non-final states are ignored; a FAILED query fails the Task with AthenaQueryFailedError', async () => {
    const s = setup();
    athenaMock.on(GetQueryExecutionCommand).resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } });
    const { taskToken, ...check } = awaitRefreshInput(['q-1'], TOKEN);
    await awaitCompletion({ kind: 'refresh', input: check }, taskToken, s.deps, s.waitDeps, recordingLog());

    expect((await complete(s, athenaEvent('q-1', 'RUNNING'))).ignored).toBe('query is RUNNING');
    expect((await complete(s, athenaEvent('q-1', 'QUEUED'))).ignored).toBe('query is QUEUED');
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolves({ QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'Table not found' } } });
    sfnMock.on(SendTaskFailureCommand).resolves(meta);

    await complete(s, athenaEvent('q-1', 'FAILED'));

    expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: TOKEN,
      error: 'AthenaQueryFailedError',
      cause: 'Athena query q-1 FAILED: Table not found',
    });
    expect(athenaMock).toHaveReceivedCommandTimes(GetQueryExecutionCommand, 2);
  });

  test('Athena: a registration of two statements completes only when both are final', async () => {
    const s = setup();
    athenaMock.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'RUNNING' } } });
    const { taskToken, ...check } = awaitRefreshInput(['q-1', 'q-2'], TOKEN);
    await awaitCompletion({ kind: 'refresh', input: check }, taskToken, s.deps, s.waitDeps, recordingLog());
    athenaMock
      .on(GetQueryExecutionCommand, { QueryExecutionId: 'q-1' })
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    sfnMock.on(SendTaskSuccessCommand).resolves(meta);

    expect((await complete(s, athenaEvent('q-1', 'SUCCEEDED'))).deliveries[0]?.delivery).toBe('still-running');
    athenaMock
      .on(GetQueryExecutionCommand, { QueryExecutionId: 'q-2' })
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    expect((await complete(s, athenaEvent('q-2', 'SUCCEEDED'))).deliveries[0]?.delivery).toBe('sent');
    const output = JSON.parse(sfnMock.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output ?? '{}') as unknown;
    expect(() => validate('RefreshState', output, 'output')).not.toThrow();
    expect(output).toMatchObject({ queryExecutionIds: ['q-1', 'q-2'], done: true });
    // The duplicate of q-1's event after the send: already answered under every subject.
    expect((await complete(s, athenaEvent('q-1', 'SUCCEEDED'))).deliveries[0]?.delivery).toBe('already-sent');
  });
});

describe('the await step and the fallback re-check', () => {
  test('a run that finished before the token was recorded is answered by the await step itself', async () => {
    const s = setup();
    glueMock.on(GetJobRunCommand).resolves(jobRun('SUCCEEDED'));
    sfnMock.on(SendTaskSuccessCommand).resolves(meta);
    // The event came first and found no waiter.
    expect((await complete(s, glueJobEvent(jobNameOf(s.world), 'jr_1', 'SUCCEEDED'))).deliveries).toEqual([]);

    const output = await invokeWaitStep(awaitJobRunStep, awaitJobInput('jr_1', TOKEN), s.deps, s.waitDeps);

    expect(output).toEqual({
      subjects: [`job#${jobNameOf(s.world)}#jr_1`],
      waiterId: 'job-sk1-jr_1',
      delivery: 'sent',
    });
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(s.waitDeps.rechecks.requests).toEqual([]);
  });

  test('still running: one re-check is queued after the fallback interval; the re-check finds it finished', async () => {
    const s = setup();
    await recordJobWait(s);
    const [request] = s.waitDeps.rechecks.drain();
    expect(request).toMatchObject({ subject: `job#${jobNameOf(s.world)}#jr_1`, waiterId: 'job-sk1-jr_1' });
    expect(request?.delaySeconds).toBe(15); // clamped below at the policy's minSeconds

    glueMock.on(GetJobRunCommand).resolves(jobRun('RUNNING'));
    s.world.clock.advance(3600);
    const first = await recheckWait(request!, s.deps, s.waitDeps, recordingLog());
    expect(first.deliveries[0]?.delivery).toBe('still-running');
    const [later] = s.waitDeps.rechecks.drain();
    expect(later?.delaySeconds).toBeGreaterThan(request!.delaySeconds); // longer, from the polling policy

    glueMock.on(GetJobRunCommand).resolves(jobRun('SUCCEEDED'));
    sfnMock.on(SendTaskSuccessCommand).resolves(meta);
    expect((await recheckWait(later!, s.deps, s.waitDeps, recordingLog())).deliveries[0]?.delivery).toBe('sent');
    expect(s.waitDeps.rechecks.requests).toEqual([]);
  });

  test('each re-check that finds the work running sends a heartbeat; a refused heartbeat stops the re-checks', async () => {
    const s = setup();
    await recordJobWait(s);
    glueMock.on(GetJobRunCommand).resolves(jobRun('RUNNING'));
    sfnMock
      .on(SendTaskHeartbeatCommand)
      .resolvesOnce(meta)
      .rejects(new TaskTimedOut({ message: 'closed', ...meta }));

    const first = await recheckWait(s.waitDeps.rechecks.drain()[0]!, s.deps, s.waitDeps, recordingLog());
    expect(first.deliveries[0]?.delivery).toBe('still-running');
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskHeartbeatCommand, { taskToken: TOKEN });
    const log = recordingLog();
    const second = await recheckWait(s.waitDeps.rechecks.drain()[0]!, s.deps, s.waitDeps, log);

    expect(second.deliveries[0]?.delivery).toBe('token-closed');
    expect(s.waitDeps.rechecks.requests).toEqual([]); // no endless polling of a dead execution
    expect(log.lines.map((l) => l.message)).toContain(
      'task token closed while its work is still running; re-checks stop',
    );
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('the fallback interval is at most 10 % of the elapsed time and never above the policy maximum', () => {
    const policy = { minSeconds: 15, maxSeconds: 300, growth: 0.25 };
    for (const elapsed of [0, 60, 600, 1800, 3600, 6 * 3600]) {
      const delay = recheckDelaySeconds(elapsed, policy);
      expect(delay).toBeLessThanOrEqual(Math.max(policy.minSeconds, elapsed * RECHECK_GROWTH));
      expect(delay).toBeLessThanOrEqual(policy.maxSeconds);
    }
    expect(recheckDelaySeconds(3600, policy)).toBe(300);
    expect(recheckDelaySeconds(3600, { ...policy, maxSeconds: 3600 })).toBe(360);
  });

  test('the task token never reaches a log line (it is a bearer credential for the Task)', async () => {
    const s = setup();
    const log = recordingLog();
    glueMock.on(GetJobRunCommand).resolvesOnce(jobRun('RUNNING')).resolves(jobRun('SUCCEEDED'));
    sfnMock
      .on(SendTaskSuccessCommand)
      .resolvesOnce(meta)
      .rejects(new TaskTimedOut({ message: 'closed', ...meta }));
    const { taskToken, ...check } = awaitJobInput('jr_1', TOKEN);
    await awaitCompletion({ kind: 'job', input: check }, taskToken, s.deps, s.waitDeps, log);
    await completeFromEvent(glueJobEvent(jobNameOf(s.world), 'jr_1', 'SUCCEEDED'), s.deps, s.waitDeps, log);
    await recheckWait(s.waitDeps.rechecks.drain()[0]!, s.deps, s.waitDeps, log);
    expect(log.lines.length).toBeGreaterThan(2);
    expect(JSON.stringify(log.lines)).not.toContain(TOKEN);
  });

  test('a malformed event is refused naming the missing field', async () => {
    const s = setup();
    await expect(
      complete(s, { source: 'aws.glue', 'detail-type': 'Glue Job State Change', detail: { jobName: 'x' } }),
    ).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/jobRunId/) });
  });
});
