/**
 * The wait store on a real DynamoDB API (dynalite), with the in-memory Step Functions token semantics (first
 * answer closes the token; a later one is TaskTimedOut). Both orders of token and completion, duplicates,
 * faults between writes (a timeout after an applied write), and every interleaving fast-check picks.
 * Invariant throughout: the Task is resumed exactly once, with the Check step's output.
 */
import fc from 'fast-check';
import { DynamoWaitStore } from '../../adapters/aws/dynamo-waits';
import { MemoryRecheckQueue, MemoryTaskTokens, type TokenAnswer } from '../../adapters/memory/waits';
import type { WaitDeps, WaitStore } from '../../domain/waits';
import { awaitCompletion, completeFromEvent, recheckWait } from '../../domain/waits/completion';
import { fakeWorld, type FakeWorld } from '../support/fakes';
import { injectFaults, startDynamo, type LocalDynamo } from '../support/dynamo';
import { awaitJobInput, glueJobEvent, jobNameOf, recordingLog } from '../support/waits';

let dynamo: LocalDynamo;
let tables = 0;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});

interface Scene {
  world: FakeWorld;
  waitDeps: WaitDeps & { tokens: MemoryTaskTokens; rechecks: MemoryRecheckQueue };
  answers: TokenAnswer[];
  token: string;
  runId: string;
  finish(state?: 'SUCCEEDED' | 'FAILED'): void;
  await(): ReturnType<typeof awaitCompletion>;
  event(): ReturnType<typeof completeFromEvent>;
}

async function scene(wrap: (store: WaitStore) => WaitStore = (s) => s): Promise<Scene> {
  const table = `waits-${++tables}`;
  await dynamo.createTable(table);
  const world = fakeWorld();
  world.jobs.script = () => ({ pollsToFinish: Number.MAX_SAFE_INTEGER, finalState: 'SUCCEEDED' });
  const runId = await world.jobs.startJobRun(jobNameOf(world), {});
  const tokens = new MemoryTaskTokens();
  const answers: TokenAnswer[] = [];
  const token = `token-${table}`;
  tokens.open(token, (answer) => answers.push(answer));
  const waitDeps = { waits: wrap(new DynamoWaitStore(dynamo.doc, table)), tokens, rechecks: new MemoryRecheckQueue() };
  const { taskToken, ...check } = awaitJobInput(runId, token);
  return {
    world,
    waitDeps,
    answers,
    token,
    runId,
    finish(state = 'SUCCEEDED') {
      const run = world.jobs.runs.find((r) => r.id === runId)!;
      run.state = state;
    },
    await: () => awaitCompletion({ kind: 'job', input: check }, taskToken, world.deps, waitDeps, recordingLog()),
    event: () =>
      completeFromEvent(glueJobEvent(jobNameOf(world), runId, 'SUCCEEDED'), world.deps, waitDeps, recordingLog()),
  };
}

function expectResumedOnceWith(s: Scene, state: string): void {
  expect(s.answers).toHaveLength(1);
  expect(s.answers[0]).toMatchObject({ ok: true, output: { runId: s.runId, done: true, result: { state } } });
}

describe('the two orders', () => {
  test('token first, then the completion event: the event answers it', async () => {
    const s = await scene();
    expect((await s.await()).delivery).toBe('still-running');
    s.finish();
    const report = await s.event();
    expect(report.deliveries).toEqual([{ waiterId: `job-sk1-${s.runId}`, delivery: 'sent' }]);
    expectResumedOnceWith(s, 'SUCCEEDED');
  });

  test("completion event first (no waiter yet), then the token: the await step's own check answers it", async () => {
    const s = await scene();
    s.finish('FAILED');
    expect((await s.event()).deliveries).toEqual([]);
    expect((await s.await()).delivery).toBe('sent');
    expectResumedOnceWith(s, 'FAILED');
    expect(s.waitDeps.rechecks.requests).toEqual([]);
  });

  test('event lost: the fallback re-check answers it', async () => {
    const s = await scene();
    await s.await();
    s.finish();
    const [request] = s.waitDeps.rechecks.drain();
    const report = await recheckWait(request!, s.world.deps, s.waitDeps, recordingLog());
    expect(report.deliveries[0]?.delivery).toBe('sent');
    expectResumedOnceWith(s, 'SUCCEEDED');
  });
});

describe('duplicates', () => {
  test('three deliveries of one event at once: one answer; the rest are refused or skipped, none throws', async () => {
    const s = await scene();
    await s.await();
    s.finish();
    const reports = await Promise.all([s.event(), s.event(), s.event()]);
    const deliveries = reports.map((r) => r.deliveries[0]?.delivery).sort();
    expect(deliveries.filter((d) => d === 'sent')).toHaveLength(1);
    for (const d of deliveries) expect(['sent', 'token-closed', 'already-sent']).toContain(d);
    expectResumedOnceWith(s, 'SUCCEEDED');
    // Afterwards a duplicate costs one consistent read and no API call.
    const polls = s.world.jobs.runs[0]!;
    const before = JSON.stringify(polls);
    expect((await s.event()).deliveries[0]?.delivery).toBe('already-sent');
    expect(JSON.stringify(polls)).toBe(before);
  });

  test('a re-await after a fallback timeout replaces the token; a late answer to the old one does not close the new', async () => {
    const s = await scene();
    await s.await();
    // The Task timed out (fallback): Step Functions closed the old token and the ASL awaits again with a new one.
    s.waitDeps.tokens.close(s.token);
    const fresh = `${s.token}-2`;
    const answers: TokenAnswer[] = [];
    s.waitDeps.tokens.open(fresh, (a) => answers.push(a));
    const { taskToken: _old, ...check } = awaitJobInput(s.runId, s.token);
    await awaitCompletion({ kind: 'job', input: check }, fresh, s.world.deps, s.waitDeps, recordingLog());
    s.finish();
    expect((await s.event()).deliveries[0]?.delivery).toBe('sent');
    expect(answers).toHaveLength(1);
    expect(s.answers).toHaveLength(0);
  });
});

describe('faults between writes (the write is applied, the caller sees a timeout)', () => {
  afterEach(() => jest.restoreAllMocks());

  test('recording the token times out after it was applied; the event lands before the retry', async () => {
    const s = await scene();
    const faults = injectFaults(dynamo, (call) =>
      call.kind === 'PutCommand' && call.sk.startsWith('WAITER#') && call.n === 1 ? 'applied-then-timeout' : undefined,
    );
    await expect(s.await()).rejects.toMatchObject({ name: 'AwsThrottledError' }); // retried by the ASL
    s.finish();
    expect((await s.event()).deliveries[0]?.delivery).toBe('sent'); // the applied write is visible
    expect((await s.await()).delivery).toBe('token-closed'); // the retry checks, sends, is refused, logs
    faults.restore();
    expectResumedOnceWith(s, 'SUCCEEDED');
  });

  test('marking the token sent times out after it was applied: the retried event is a duplicate', async () => {
    const s = await scene();
    await s.await();
    s.finish();
    const faults = injectFaults(dynamo, (call) => (call.kind === 'UpdateCommand' ? 'applied-then-timeout' : undefined));
    await expect(s.event()).rejects.toMatchObject({ name: 'AwsThrottledError' }); // EventBridge/Lambda retries it
    faults.restore();
    expect((await s.event()).deliveries[0]?.delivery).toBe('already-sent');
    expectResumedOnceWith(s, 'SUCCEEDED');
  });

  test('a throttled read of the waiters fails the completion retryably; its retry answers the token', async () => {
    const s = await scene();
    await s.await();
    s.finish();
    const faults = injectFaults(dynamo, (call) =>
      call.kind === 'QueryCommand' && call.n === 1 ? 'throttle' : undefined,
    );
    await expect(s.event()).rejects.toMatchObject({ name: 'AwsThrottledError' });
    expect((await s.event()).deliveries[0]?.delivery).toBe('sent');
    faults.restore();
    expectResumedOnceWith(s, 'SUCCEEDED');
  });
});

test('any interleaving of the await step with the job finishing and its event: resumed exactly once', async () => {
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), fc.boolean(), async (scheduler, eventLost) => {
      // Each store call and each Glue read waits for the scheduler before it runs, so the scheduler picks the order
      // in which the two sides' reads and writes reach dynalite and Glue.
      const gate =
        <A extends unknown[], R>(label: string, fn: (...args: A) => Promise<R>) =>
        async (...args: A): Promise<R> => {
          await scheduler.schedule(Promise.resolve(), label);
          return fn(...args);
        };
      const s = await scene((store) => ({
        recordWait: gate('recordWait', store.recordWait.bind(store)),
        waitersOf: gate('waitersOf', store.waitersOf.bind(store)),
        waiter: gate('waiter', store.waiter.bind(store)),
        markSent: gate('markSent', store.markSent.bind(store)),
        markFinal: gate('markFinal', store.markFinal.bind(store)),
        finalSubjects: gate('finalSubjects', store.finalSubjects.bind(store)),
      }));
      s.world.jobs.getJobRun = gate('getJobRun', s.world.jobs.getJobRun.bind(s.world.jobs));
      const awaiting = s.await();
      const completing = scheduler.schedule(Promise.resolve(), 'job finishes').then(async () => {
        s.finish();
        if (!eventLost) await s.event();
      });
      // waitFor, not waitAll: the next gated call appears only after real I/O to dynalite.
      await scheduler.waitFor(Promise.all([awaiting, completing]));
      // Delivered event: answered without the fallback, whatever the order. Lost event: the re-check answers.
      if (!eventLost) expect(s.answers).toHaveLength(1);
      for (const request of s.waitDeps.rechecks.drain())
        await scheduler.waitFor(recheckWait(request, s.world.deps, s.waitDeps, recordingLog()));
      expectResumedOnceWith(s, 'SUCCEEDED');
    }),
    { numRuns: 30 },
  );
}, 120_000);

describe("a refresh wave's final subjects (issue 23)", () => {
  test('markFinal adds atomically and returns every final subject; repeats change nothing; finalSubjects reads them', async () => {
    const table = `waits-${++tables}`;
    await dynamo.createTable(table);
    const store = new DynamoWaitStore(dynamo.doc, table);
    const record = {
      subject: 'query#q-1',
      waiterId: 'refresh-abc',
      taskToken: 't',
      check: {
        kind: 'refresh' as const,
        input: {
          dataset: 'orders',
          executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:x',
          refresh: {
            queryExecutionIds: ['q-1', 'q-2', 'q-3'],
            partitionCount: 3,
            startedAt: AT,
            done: false,
            waitSeconds: 1,
          },
        },
      },
      subjects: ['query#q-1', 'query#q-2', 'query#q-3'],
      recordedAt: AT,
    };
    const now = new Date(AT);
    expect(await store.finalSubjects(record)).toEqual([]);
    // Two deliveries at once: whichever write lands second returns both.
    const [a, b] = await Promise.all([
      store.markFinal(record, 'query#q-1', now),
      store.markFinal(record, 'query#q-2', now),
    ]);
    expect(Math.max(a.length, b.length)).toBe(2);
    expect((await store.markFinal(record, 'query#q-1', now)).sort()).toEqual(['query#q-1', 'query#q-2']);
    expect((await store.markFinal(record, 'query#q-3', now)).sort()).toEqual(['query#q-1', 'query#q-2', 'query#q-3']);
    expect((await store.finalSubjects(record)).sort()).toEqual(['query#q-1', 'query#q-2', 'query#q-3']);
    expect(await store.finalSubjects({ ...record, waiterId: 'refresh-other' })).toEqual([]);
  });
});

const AT = '2024-03-01T10:00:00.000Z';
