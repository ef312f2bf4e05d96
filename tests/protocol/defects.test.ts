/**
 * The 13 defects of issue 21, one deterministic test each, on moto's DynamoDB (tests/support/moto.ts) and the
 * project's fakes. Each test failed on the code before the redesign (commit dd27251: see docs/protocol.md,
 * "Defects and their tests", for how that was checked) and passes now. They go through the cores' public
 * functions only, so the same file runs against either version of the code.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoArrivalBatches } from '../../adapters/aws/dynamo-arrival-batches';
import {
  MEMORY_STATE_TABLE,
  MemoryArrivalLedger,
  MemoryRunLeases,
  memoryStateStore,
} from '../../adapters/memory/state';
import { SfnTaskTokens } from '../../adapters/aws/task-tokens';
import { mapAwsError } from '../../adapters/aws/errors';
import { parseConfig } from '../../domain/config/config';
import { acceptObjectCreated } from '../../domain/intake/arrival';
import { acceptBatch, type BatchDeps, type SqsRecord } from '../../domain/intake';
import type { Deps } from '../../domain/deps';
import type { Log } from '../../domain/common';
import { catchUpAll, RUN_LEASE_SECONDS } from '../../domain/runs';
import { startJobRun, notifyFailure, claimArrivals, prepareRun, releaseLease } from '../../domain/steps';
import { deliver } from '../../domain/waits/completion';
import type { WaitDeps, WaitRecord } from '../../domain/waits';
import { batchMetrics } from '../../functions/on-arrival-batch';
import { dynamoWorld, injectFaults, startDynamo, type LocalDynamo } from '../support/dynamo';
import { objectEvent } from '../support/events';
import { fakeWorld, ORDERS_CONFIG } from '../support/fakes';
import { EXECUTION, PARTITION } from '../support/waits';

const log: Log = { debug() {}, info() {}, warn() {}, error() {} };
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynamo();
}, 120_000);
afterAll(async () => {
  await dynamo.stop();
});

const keyOf = (day: number, name: string) =>
  `orders/year=2024/month=03/day=${String(day).padStart(2, '0')}/${name}.csv`;
const event = (day: number, name: string, sequencer: string) => objectEvent(keyOf(day, name), sequencer);
const sqs = (day: number, name: string, sequencer: string, id = `${day}-${name}`): SqsRecord => ({
  messageId: id,
  body: JSON.stringify(event(day, name, sequencer)),
});

async function world(config?: Deps['config']) {
  const w = await dynamoWorld(dynamo);
  const deps: Deps = config ? { ...w.deps, config } : w.deps;
  const batchDeps: BatchDeps = {
    ...deps,
    batches: new DynamoArrivalBatches(dynamo.doc, w.table),
    poison: { send: async () => {} },
  };
  return { ...w, deps, batchDeps };
}

/** The execution ARN of the n-th StartExecution the fake saw. */
const startedArn = (w: Awaited<ReturnType<typeof world>>, n = 0) =>
  w.executions.executionArnFor(w.executions.started[n]!.name);

/** The first step of the execution the fake started (the state machine would run it). */
const runFirstStep = (w: Awaited<ReturnType<typeof world>>, arn: string, request: object) =>
  prepareRun({ request: request as never, executionArn: arn }, w.deps, log);

const cappedConfig = (maxClaimPartitions: number) =>
  parseConfig(
    {
      ...ORDERS_CONFIG,
      datasets: [
        { ...ORDERS_CONFIG.datasets[0], debounce: { quietSeconds: 0, maxWaitSeconds: 0, maxClaimPartitions } },
      ],
    },
    'capped config',
  );

describe('arrivals stranded', () => {
  test('1. the intake dies after taking the start-up lease, before StartExecution: the redelivery starts the run', async () => {
    const w = await world();
    const realStart = w.executions.startExecution.bind(w.executions);
    // The Lambda dies inside StartExecution's call, before it reaches Step Functions: the call never returns.
    w.executions.startExecution = () => new Promise(() => {});
    void acceptObjectCreated(event(1, 'a', '01'), w.deps, log);
    await new Promise((r) => setTimeout(r, 500)); // the lease write and the reads are done; StartExecution hangs
    w.executions.startExecution = realStart;
    // SQS redelivers the record (it was never acknowledged).
    await acceptObjectCreated(event(1, 'a', '01'), w.deps, log);
    const lease = await w.deps.leases.current('orders');
    expect(lease).not.toBeNull();
    // The lease's execution was started: the run that will take the arrival exists.
    expect(w.executions.started.map((s) => w.executions.executionArnFor(s.name))).toContain(lease!.owner);
  });

  test('2. an arrival between the ending run reading pending and giving the lease back gets a run', async () => {
    const w = await world();
    await acceptObjectCreated(event(1, 'a', '01'), w.deps, log);
    const run = startedArn(w);
    await runFirstStep(w, run, { dataset: 'orders', trigger: 'arrival' });
    await w.deps.arrivals.claimPending('orders', run, w.clock.now());
    // The release step reads pending (nothing) ... and an intake runs right then, deferring to the lease.
    const pendingSummary = w.deps.arrivals.pendingSummary.bind(w.deps.arrivals);
    let raced = false;
    w.deps.arrivals.pendingSummary = async (dataset) => {
      const answer = await pendingSummary(dataset);
      if (!raced && answer === null) {
        raced = true;
        await acceptObjectCreated(event(2, 'b', '02'), w.deps, log);
      }
      return answer;
    };
    await releaseLease(
      { dataset: 'orders', executionArn: run, outcome: 'succeeded', runStartedAt: '2024-03-01T10:00:00Z' },
      w.deps,
      log,
    );
    expect(raced).toBe(true);
    const lease = await w.deps.leases.current('orders');
    // Someone holds the lease for a started execution (which will claim b), or nothing is pending.
    const pending = await pendingSummary('orders');
    expect(pending).not.toBeNull();
    expect(lease).not.toBeNull();
    expect(w.executions.started.slice(1).map((s) => w.executions.executionArnFor(s.name))).toContain(lease!.owner);
  });

  test('3. a manual run that fails: an arrival that deferred to it just before is started by its release', async () => {
    const w = await world();
    // The arrival is recorded at 10:00:00; its intake's lease attempt comes after the manual run took the lease.
    await w.deps.arrivals.recordArrival({
      dataset: 'orders',
      partitionKey: 'year=2024/month=03/day=01',
      objectKey: keyOf(1, 'a'),
      sequencer: '01',
      size: 10,
      arrivedAt: '2024-03-01T10:00:00Z',
    });
    w.clock.advance(2_000);
    const manual = w.executions.executionArnFor('manual-1');
    await runFirstStep(w, manual, {
      dataset: 'orders',
      partitions: [{ year: '2024', month: '03', day: '02' }],
    });
    await acceptObjectCreated(event(1, 'a', '01'), w.deps, log); // the intake's retry: deferred to the manual run
    expect(w.executions.started).toHaveLength(0);
    const out = await releaseLease(
      { dataset: 'orders', executionArn: manual, outcome: 'failed', runStartedAt: w.clock.now().toISOString() },
      w.deps,
      log,
    );
    expect(out.followUpExecutionArn).toBeDefined();
  });

  test('4. a capped run that fails: the unclaimed remainder gets a follow-up', async () => {
    const w = await world(cappedConfig(1));
    await acceptObjectCreated(event(1, 'a', '01'), w.deps, log);
    await acceptObjectCreated(event(2, 'b', '02'), w.deps, log);
    const run = startedArn(w);
    await runFirstStep(w, run, { dataset: 'orders', trigger: 'arrival' });
    w.clock.advance(1_000);
    const claimed = await claimArrivals({ dataset: 'orders', executionArn: run }, w.deps, log);
    expect(claimed.partitionCount).toBe(1);
    const out = await releaseLease(
      { dataset: 'orders', executionArn: run, outcome: 'failed', runStartedAt: w.clock.now().toISOString() },
      w.deps,
      log,
    );
    expect(out.followUpExecutionArn).toBeDefined();
  });
});

describe('work done twice', () => {
  test('6. a record whose marker write failed, redelivered after the run claimed, does not re-open the partition', async () => {
    const w = await world();
    // One batch, two files of one partition; part b's marker write is throttled.
    let faulted = 0;
    const faults = injectFaults(dynamo, (c) =>
      (c.kind === 'PutCommand' || c.kind === 'TransactWriteCommand') &&
      JSON.stringify(c.input).includes('day=01/b.csv') &&
      !faulted++
        ? 'throttle'
        : undefined,
    );
    const records = [sqs(1, 'a', '01'), sqs(1, 'b', '02')];
    let first;
    try {
      first = await acceptBatch({ Records: records }, w.batchDeps, log);
    } finally {
      faults.restore();
    }
    expect(first.batchItemFailures.map((f) => f.itemIdentifier)).toContain('1-b');
    // A run claims whatever is pending (the one the batch started, or one that takes the free lease).
    const run = w.executions.started[0]
      ? startedArn(w)
      : 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:r1';
    await runFirstStep(w, run, { dataset: 'orders', trigger: 'arrival' });
    const claimed = await w.deps.arrivals.claimPending('orders', run, w.clock.now());
    // The redelivery of the failed records (after the 180 s visibility timeout, longer than the quiet period).
    const failed = new Set(first.batchItemFailures.map((f) => f.itemIdentifier));
    await acceptBatch({ Records: records.filter((r) => failed.has(r.messageId)) }, w.batchDeps, log);
    // The claimed partition already held b's arrival (its pending update counted both files): pending again
    // means a follow-up processes day=01 a second time for the same arrivals.
    const pendingAgain = (await w.deps.arrivals.pendingSummary('orders')) !== null;
    expect({ claimed, pendingAgain: claimed.length > 0 && pendingAgain }).toEqual({
      claimed: expect.any(Array),
      pendingAgain: false,
    });
  });

  test('7. one event in two concurrent invocations: the stalled one does not re-open the claimed partition', async () => {
    const w = await world();
    const stalled = new DynamoArrivalBatches(dynamo.doc, w.table);
    let resume!: () => void;
    const paused = new Promise<void>((r) => (resume = r));
    const read = stalled.recordedEvents.bind(stalled);
    stalled.recordedEvents = async (events) => {
      const seen = await read(events);
      await paused; // read the markers (none), then stall
      return seen;
    };
    const a = acceptBatch({ Records: [sqs(1, 'a', '01', 'first')] }, { ...w.batchDeps, batches: stalled }, log);
    await new Promise((r) => setTimeout(r, 300));
    await acceptBatch({ Records: [sqs(1, 'a', '01', 'second')] }, w.batchDeps, log);
    const run = startedArn(w);
    await runFirstStep(w, run, { dataset: 'orders', trigger: 'arrival' });
    expect(await w.deps.arrivals.claimPending('orders', run, w.clock.now())).toEqual(['year=2024/month=03/day=01']);
    resume();
    await a;
    expect(await w.deps.arrivals.pendingSummary('orders')).toBeNull();
  });

  test('10. job rows: two deliveries of one completion side by side record RowsIn once', async () => {
    const { rowsRecorded } = await twoDeliveries();
    expect(rowsRecorded).toBe(1);
  });
});

/** The stored wait of one job run's token, as the await step records it. */
function jobWaitRecord(input: object, job: { runId: string }): WaitRecord {
  return {
    subject: `job#x#${job.runId}`,
    waiterId: 'w',
    taskToken: 't',
    subjects: [],
    recordedAt: '',
    check: { kind: 'job', input: { ...input, job } },
  } as unknown as WaitRecord;
}

/** Two deliveries of one SUCCEEDED job's completion; SendTaskSuccess accepts the first answer only. */
async function twoDeliveries() {
  const w = fakeWorld();
  const points: string[] = [];
  const deps: Deps = { ...w.deps, metrics: { record: (ps) => points.push(...ps.map((p) => p.name)) } };
  const input = { dataset: 'orders', partition: PARTITION, executionArn: EXECUTION };
  const job = await startJobRun(input, { ...deps, metrics: undefined }, log);
  await w.jobs.finish(job.runId, 'SUCCEEDED');
  let answered = 0;
  const waitDeps = {
    waits: { markSent: async () => {} },
    tokens: {
      succeed: async () => (answered++ === 0 ? 'sent' : 'token-closed'),
      fail: async () => 'sent',
      heartbeat: async () => 'sent',
    },
    rechecks: { recheckLater: async () => {} },
  } as unknown as WaitDeps;
  const record = jobWaitRecord(input, job);
  await Promise.all([deliver(record, deps, waitDeps, log), deliver(record, deps, waitDeps, log)]);
  return { rowsRecorded: points.filter((p) => p === 'RowsIn').length, points };
}

/** The notify step's report for a run that broke at `failure` after its Map (succeeded, failed partitions). */
async function reportAfter(failure: string, failedCount: number) {
  const w = fakeWorld();
  const list = { bucket: 'sluice-test-artifacts', key: 'runs/run-1/claimed.json' };
  const input = {
    executionArn: EXECUTION,
    state: {
      run: { dataset: 'orders', mode: 'automatic', skipCrawler: false, executionArn: EXECUTION },
      debounce: { items: list },
      crawl: { done: true },
      jobResults: {
        firstFailures: failedCount > 0 ? [{ partition: PARTITION, ok: false, state: 'FAILED' }] : [],
        failedCount,
        succeededCount: 3 - failedCount,
        ...(failedCount > 0
          ? { rerunInput: { dataset: 'orders', manifest: 's3://sluice-test-artifacts/runs/run-1/failed.json' } }
          : {}),
      },
      failure: { [failure]: { Error: 'AwsThrottledError', Cause: '{"errorMessage":"throttled"}' } },
    },
  };
  return (await notifyFailure(input as never, w.deps, log)).report;
}

describe('wrong answers and wrong counts', () => {
  test('5. registration in Athena fails after a partition failed: the re-run input is the whole list, not the failed one', async () => {
    const report = await reportAfter('startPartitionRefresh', 1);
    // The two partitions that succeeded were converted but never registered: they must be in the re-run.
    expect(report.rerunInput).toEqual({
      dataset: 'orders',
      manifest: 's3://sluice-test-artifacts/runs/run-1/claimed.json',
      skipCrawler: true,
    });
  });

  test('12. every partition succeeded and was registered, then the release failed for good: nothing to re-run', async () => {
    const report = await reportAfter('releaseLease', 0);
    expect(report.rerunInput).toBeNull();
  });

  test.each(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN'])(
    '9. SendTaskSuccess failing with %s (SDK error name "Error") is retried, never turned into SendTaskFailure',
    async (code) => {
      const sent: string[] = [];
      const networkError = Object.assign(new Error(`connect ${code} 127.0.0.1:443`), { code });
      const sfn = {
        send: async (command: { constructor: { name: string } }) => {
          sent.push(command.constructor.name);
          if (command.constructor.name === 'SendTaskSuccessCommand') throw networkError;
          return {};
        },
      };
      const waitDeps = {
        waits: { markSent: async () => {} },
        tokens: new SfnTaskTokens(sfn as never),
        rechecks: { recheckLater: async () => {} },
      } as unknown as WaitDeps;
      // A job wait whose job run SUCCEEDED.
      const fw = fakeWorld();
      const input = { dataset: 'orders', partition: PARTITION, executionArn: EXECUTION };
      const job = await startJobRun(input, fw.deps, log);
      await fw.jobs.finish(job.runId, 'SUCCEEDED');
      const record = jobWaitRecord(input, job);
      const outcome = await deliver(record, fw.deps, waitDeps, log).then(
        (d) => ({ ok: true as const, d }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      expect(sent).toContain('SendTaskSuccessCommand');
      expect(sent).not.toContain('SendTaskFailureCommand');
      expect(outcome.ok).toBe(false);
      expect((outcome as { error: { retryable?: boolean } }).error.retryable).toBe(true);
      expect(mapAwsError(networkError, 'x').name).toBe('AwsThrottledError');
    },
  );

  test('11. after a throttled StartExecution, the redelivered new objects count as accepted exactly once', async () => {
    const w = await world();
    let failing = true;
    const executions = {
      executionArnFor: (name: string) => w.executions.executionArnFor(name),
      startExecution: async (name: string, input: never) => {
        if (failing)
          throw mapAwsError(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), 'SFN');
        return w.executions.startExecution(name, input);
      },
    };
    const deps = { ...w.batchDeps, executions };
    const records = [sqs(1, 'a', '01'), sqs(2, 'b', '02')];
    const first = await acceptBatch({ Records: records }, deps, log);
    expect(first.batchItemFailures).toHaveLength(2);
    failing = false;
    // The failed start left a start-up lease (or none); either way the redelivery must end with a run.
    const second = await acceptBatch({ Records: records }, deps, log);
    const accepted = [...batchMetrics(first.records), ...batchMetrics(second.records)]
      .filter((p) => p.name === 'ArrivalsAccepted')
      .reduce((n, p) => n + p.value, 0);
    expect(accepted).toBe(2);
  });
});

describe('scale', () => {
  /** A dead run's claim of `size` partitions, written as one item (what a claim of that size is). */
  async function orphanClaim(doc: LocalDynamo['doc'], table: string, dead: string, size: number) {
    const partitions = Array.from({ length: size }, (_, i) => `year=2024/month=01/day=01/p${i}`);
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: 'DS#orders',
          sk: `CLAIM#${dead}`,
          partitions: new Set(partitions),
          claimedAt: 1,
          firstAt: 1,
          lastAt: 1,
        },
      }),
    );
  }
  async function claimSize(doc: LocalDynamo['doc'], table: string, dead: string) {
    const { Item } = await doc.send(
      new GetCommand({ TableName: table, Key: { pk: 'DS#orders', sk: `CLAIM#${dead}` }, ConsistentRead: true }),
    );
    return Item ? ((Item.partitions as Set<string> | undefined)?.size ?? 0) : -1;
  }
  const dead = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:dead';
  const holder = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:holder';

  test('13. an orphan claim returned by a lease holder whose first attempt dies part-way: the retry resumes', async () => {
    const w = await world();
    await orphanClaim(dynamo.doc, w.table, dead, 300);
    expect(await w.deps.leases.acquire('orders', holder, w.clock.now(), RUN_LEASE_SECONDS)).toBe(true);
    // The first attempt dies a few writes in (a throttle that outlasts the SDK's retries, or the deadline).
    let writes = 0;
    const faults = injectFaults(dynamo, (c) =>
      c.kind !== 'GetCommand' && c.kind !== 'QueryCommand' && ++writes > 2 ? 'throttle' : undefined,
    );
    try {
      await expect(w.deps.arrivals.returnClaim('orders', dead, [], { holder })).rejects.toThrow();
    } finally {
      faults.restore();
    }
    const left = await claimSize(dynamo.doc, w.table, dead);
    // Progress is kept: what went back left the claim, so the retry resumes instead of starting over.
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(300);
    const rest = await w.deps.arrivals.returnClaim('orders', dead, [], { holder });
    expect(rest).toHaveLength(left);
    expect(await claimSize(dynamo.doc, w.table, dead)).toBe(-1);
    expect((await w.deps.arrivals.pendingSummary('orders'))?.partitions).toBe(300);
  }, 300_000);

  test('13. a 10,000-partition claim goes back within its time budget or says it must be retried (in-memory store)', async () => {
    const clock = { ms: Date.parse('2024-03-01T10:00:00Z') };
    const store = memoryStateStore(() => clock.ms);
    const ledger = new MemoryArrivalLedger({ now: () => new Date((clock.ms += 50)) }, store);
    const leases = new MemoryRunLeases(store);
    await orphanClaim(store.doc as never, MEMORY_STATE_TABLE, dead, 10_000);
    expect(await leases.acquire('orders', holder, new Date(clock.ms), RUN_LEASE_SECONDS)).toBe(true);
    const keep = Array.from({ length: 5_000 }, (_, i) => `year=2024/month=01/day=01/p${2 * i}`);
    // Each call moves the clock 50 ms: a 20 s budget holds a few hundred calls, fewer than 10,000 partitions
    // written one by one would need, and more than 103 chunks.
    const back = await ledger.returnClaim('orders', dead, keep, { holder, budgetMs: 20_000 });
    expect(back).toHaveLength(5_000);
    expect((await ledger.pendingSummary('orders'))?.partitions).toBe(5_000);
    expect(await ledger.claimOwners('orders')).toEqual([]);
    // With a budget too short for all of it, it stops early, keeps its progress, and the retry finishes.
    await orphanClaim(store.doc as never, MEMORY_STATE_TABLE, dead, 10_000);
    await expect(ledger.returnClaim('orders', dead, [], { holder, budgetMs: 1_000 })).rejects.toThrow(/retry/);
    expect(await ledger.returnClaim('orders', dead, [], { holder, budgetMs: 60_000 })).not.toHaveLength(10_000);
    expect(await ledger.claimOwners('orders')).toEqual([]);
  });

  test("13. one dataset's trouble never stops the catch-up for the others", async () => {
    const w = await world();
    await w.deps.arrivals.recordArrival({
      dataset: 'clicks',
      partitionKey: 'dt=2024-03-01/hour=10',
      objectKey: 'events/clicks/2024-03-01/10/a.json',
      sequencer: '09',
      size: 10,
      arrivedAt: '2024-03-01T10:00:00Z',
    });
    // Everything about orders (checked first) fails.
    const stuck = injectFaults(dynamo, (c) => (JSON.stringify(c.input).includes('DS#orders') ? 'throttle' : undefined));
    try {
      await catchUpAll(w.deps, log).catch(() => undefined);
    } finally {
      stuck.restore();
    }
    expect(w.executions.started.map((s) => s.input.dataset)).toContain('clicks');
  });
});
