/**
 * Issue 23, item 4: registration within Athena's quotas, over the AWS adapter (aws-sdk-client-mock). A simulated
 * Athena counts active (QUEUED or RUNNING) DDL queries and answers TooManyRequestsException past its quota, as
 * Athena does ("A DML or DDL query quota includes both running and queued queries":
 * https://docs.aws.amazon.com/athena/latest/ug/service-limits.html). The run's registration is driven wave by wave
 * through the real cores: the start step, the await step, one completion event per query, the next wave.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
  type GetQueryExecutionCommandInput,
  type StartQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { AthenaQueries } from '../../adapters/aws/athena';
import { MemoryRecheckQueue, MemoryTaskTokens, MemoryWaitStore, type TokenAnswer } from '../../adapters/memory/waits';
import { AwsThrottledError, validate } from '../../domain/common';
import type { Deps } from '../../domain/deps';
import { registrationRetry, startPartitionRefresh } from '../../domain/steps/athena';
import { awaitCompletion, completeFromEvent } from '../../domain/waits/completion';
import type { RefreshState } from '../../schemas/types.generated';
import { AthenaSim, partitions } from '../support/athena-sim';
import { fakeWorld } from '../support/fakes';
import { athenaEvent, recordingLog } from '../support/waits';

const athenaMock = mockClient(AthenaClient);
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:run-waves';

function setup(quota: number) {
  const world = fakeWorld();
  const sim = new AthenaSim(quota);
  athenaMock.reset();
  athenaMock.on(StartQueryExecutionCommand).callsFake((input: StartQueryExecutionCommandInput) => sim.start(input));
  athenaMock.on(GetQueryExecutionCommand).callsFake((input: GetQueryExecutionCommandInput) => sim.get(input));
  const deps: Deps = { ...world.deps, queries: new AthenaQueries(new AthenaClient({ region: 'eu-west-1' })) };
  const tokens = new MemoryTaskTokens();
  const waitDeps = { waits: new MemoryWaitStore(), tokens, rechecks: new MemoryRecheckQueue() };
  return { world, sim, deps, tokens, waitDeps, log: recordingLog() };
}

type Setup = ReturnType<typeof setup>;

/**
 * One wave from its await step to its token's answer: the queries end in `order`, each with its own event. Returns
 * the answer and, per event, the query ids its delivery looked up.
 */
async function runWave(s: Setup, refresh: RefreshState, wave: number, order: (ids: string[]) => string[]) {
  let answer: TokenAnswer | undefined;
  const token = `token-wave-${wave}`;
  s.tokens.open(token, (a) => (answer = a));
  const check = { kind: 'refresh' as const, input: { dataset: 'orders', executionArn: EXECUTION, refresh } };
  await awaitCompletion(check, token, s.deps, s.waitDeps, s.log);
  const lookedUpPerEvent: Array<{ event: string; lookedUp: string[] }> = [];
  for (const id of order(refresh.queryExecutionIds)) {
    s.sim.finish(id);
    const before = s.sim.gets.length;
    await completeFromEvent(athenaEvent(id, 'SUCCEEDED'), s.deps, s.waitDeps, s.log);
    lookedUpPerEvent.push({ event: id, lookedUp: s.sim.gets.slice(before) });
  }
  return { answer, lookedUpPerEvent };
}

/** The registration of `count` partitions as the state machine runs it; returns what it observed. */
async function registerAll(s: Setup, count: number, order: (ids: string[]) => string[] = (ids) => ids) {
  let refresh = await startPartitionRefresh(
    { dataset: 'orders', executionArn: EXECUTION, partitions: partitions(count) },
    s.deps,
    s.log,
  );
  const events: Array<{ event: string; lookedUp: string[] }> = [];
  let waves = 1;
  while (!refresh.done) {
    const { answer, lookedUpPerEvent } = await runWave(s, refresh, waves, order);
    events.push(...lookedUpPerEvent);
    expect(answer?.ok).toBe(true);
    refresh = (answer as { ok: true; output: RefreshState }).output;
    expect(() => validate('RefreshState', refresh, 'output')).not.toThrow();
    expect(refresh.waveDone).toBe(true);
    if (refresh.done) break;
    // "Start the next registration wave"
    refresh = await startPartitionRefresh(
      { dataset: 'orders', executionArn: EXECUTION, partitions: partitions(count), refresh },
      s.deps,
      s.log,
    );
    waves += 1;
  }
  return { refresh, events, waves };
}

afterEach(() => {
  registrationRetry.sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
});

describe('10,000 partitions', () => {
  test('never more active DDL queries than athena.maxActiveDdl; no completion checks another query', async () => {
    const s = setup(20);
    const wave = s.deps.config.athena.maxActiveDdl;
    const { refresh, events, waves } = await registerAll(s, 10_000);

    expect(refresh).toMatchObject({ done: true, partitionCount: 10_000, statementCount: 100, startedStatements: 100 });
    expect(s.sim.registeredPartitions()).toBe(10_000);
    expect(athenaMock.commandCalls(StartQueryExecutionCommand)).toHaveLength(100);
    expect(waves).toBe(Math.ceil(100 / wave));
    expect(s.sim.maxActive).toBeLessThanOrEqual(wave);
    expect(s.sim.refused).toBe(0);
    // Each completion event looked up its own query and no other one.
    expect(events).toHaveLength(100);
    for (const e of events) expect(e.lookedUp).toEqual([e.event]);
    const total = athenaMock.commandCalls(GetQueryExecutionCommand).length;
    // The await step checks its wave once (all RUNNING then), each event its own query: 2 per statement.
    expect(total).toBe(200);
  });

  test('queries ending in reverse order: the last event of each wave answers the token, once', async () => {
    const s = setup(20);
    const { refresh, events } = await registerAll(s, 10_000, (ids) => [...ids].reverse());
    expect(refresh.done).toBe(true);
    for (const e of events) expect(e.lookedUp).toEqual([e.event]);
    expect(s.tokens.answers.filter((a) => a.outcome === 'sent')).toHaveLength(10);
    expect(s.tokens.answers).toHaveLength(10);
  });
});

test('events of one wave delivered concurrently: the wave is answered exactly once, and not early', async () => {
  const s = setup(20);
  const refresh = await startPartitionRefresh(
    { dataset: 'orders', executionArn: EXECUTION, partitions: partitions(1_000) },
    s.deps,
    s.log,
  );
  let answer: TokenAnswer | undefined;
  s.tokens.open('t', (a) => (answer = a));
  await awaitCompletion(
    { kind: 'refresh', input: { dataset: 'orders', executionArn: EXECUTION, refresh } },
    't',
    s.deps,
    s.waitDeps,
    s.log,
  );
  const [first, ...rest] = refresh.queryExecutionIds;
  for (const id of rest) s.sim.finish(id);
  await Promise.all(rest.map((id) => completeFromEvent(athenaEvent(id, 'SUCCEEDED'), s.deps, s.waitDeps, s.log)));
  expect(answer).toBeUndefined(); // one query still runs
  s.sim.finish(first!);
  await Promise.all(
    refresh.queryExecutionIds.map((id) => completeFromEvent(athenaEvent(id, 'SUCCEEDED'), s.deps, s.waitDeps, s.log)),
  );
  expect(answer).toMatchObject({ ok: true, output: { done: true, waveDone: true } });
  expect(s.tokens.answers.filter((a) => a.outcome === 'sent')).toHaveLength(1);
});

describe('TooManyRequestsException', () => {
  test('other DDL holds the quota: the start backs off and goes on once there is room', async () => {
    const s = setup(20);
    s.sim.othersActive = 17; // room for 3 of the wave's 10
    const sleeps: number[] = [];
    registrationRetry.sleep = async (ms) => {
      sleeps.push(ms);
      s.sim.othersActive = 0; // the others' queries ended during the backoff
      for (const id of s.sim.queries.keys()) s.sim.finish(id);
    };
    const refresh = await startPartitionRefresh(
      { dataset: 'orders', executionArn: EXECUTION, partitions: partitions(1_000) },
      s.deps,
      s.log,
    );
    expect(refresh.queryExecutionIds).toHaveLength(10);
    expect(new Set(refresh.queryExecutionIds).size).toBe(10);
    expect(s.sim.refused).toBe(1);
    expect(sleeps).toHaveLength(1);
    expect(s.log.lines.some((l) => l.message.includes('retrying after a backoff'))).toBe(true);
  });

  test('still refused after the retries: AwsThrottledError (the ASL retries the step; tokens keep it idempotent)', async () => {
    const s = setup(20);
    s.sim.othersActive = 20;
    const sleeps: number[] = [];
    registrationRetry.sleep = async (ms) => void sleeps.push(ms);
    const input = { dataset: 'orders', executionArn: EXECUTION, partitions: partitions(1_000) };
    await expect(startPartitionRefresh(input, s.deps, s.log)).rejects.toBeInstanceOf(AwsThrottledError);
    expect(sleeps).toHaveLength(registrationRetry.attempts - 1);
    // Backoff grows: each wait is at most base x 2^(try-1).
    sleeps.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(registrationRetry.baseMs * 2 ** i));
    // The step's retry, with room again, starts the whole wave once: no query is started twice.
    s.sim.othersActive = 0;
    const refresh = await startPartitionRefresh(input, s.deps, s.log);
    const again = await startPartitionRefresh(input, s.deps, s.log);
    expect(again.queryExecutionIds).toEqual(refresh.queryExecutionIds);
    expect(s.sim.queries.size).toBe(10);
  });
});

test('the next wave is refused while the last one has not finished', async () => {
  const s = setup(20);
  const input = { dataset: 'orders', executionArn: EXECUTION, partitions: partitions(2_000) };
  const refresh = await startPartitionRefresh(input, s.deps, s.log);
  await expect(startPartitionRefresh({ ...input, refresh }, s.deps, s.log)).rejects.toThrow(/next registration wave/);
});
