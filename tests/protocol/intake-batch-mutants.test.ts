/**
 * The batch intake (domain/intake-batch.ts) in the cases its other tests do not tell apart, found by mutation
 * testing (issue 21 point 6, `npm run mutate`): a foreign bucket's record and a zero-byte object, the exact
 * boundaries of the key-resolution deadline, a failing read of the recorded markers and a failing recording
 * transaction (and a repeat of a failed record), the per-dataset "only duplicates" decision, the live-lease check,
 * and a failed run start (defect 11's `recorded` mark). On the in-memory DynamoDB (held equal to moto by
 * tests/protocol/adapters-agree.test.ts) and, where time matters, on jest's fake timers: nothing here depends on
 * machine speed. Outcomes are asserted with toStrictEqual: a property that must be absent (a rejected record's
 * `key`, a deadline failure's `event`) is checked absent.
 */
import { DynamoArrivalBatches } from '../../adapters/aws/dynamo-arrival-batches';
import { DynamoArrivalLedger, DynamoRunLeases } from '../../adapters/aws/dynamo-state';
import { MemoryDynamo } from '../../adapters/memory/dynamo';
import { AwsThrottledError } from '../../domain/common/errors';
import {
  acceptBatch,
  RECORD_CHUNK,
  RESOLVE_CONCURRENCY,
  RESOLVE_RESERVE_MS,
  type ArrivalBatchStore,
  type BatchDeps,
  type ObjectEvent,
  type SqsRecord,
} from '../../domain/intake/batch';
import type { Log, ObjectStorePort } from '../../domain/common/ports';
import { RUN_LEASE_SECONDS, STARTUP_LEASE_SECONDS } from '../../domain/runs/protocol';
import { RecordingExecutions, testConfig, TickingClock } from '../support/fakes';

const TABLE = 'state';
const START = Date.parse('2024-03-01T10:00:00Z');
const DAY1 = 'year=2024/month=01/day=01';
const DAY2 = 'year=2024/month=01/day=02';
const DEADLINE_REASON = "its key was not resolved before the invocation's deadline; retried";

const quiet = (): Log & { debug: jest.Mock } => ({ debug: jest.fn(), info() {}, warn() {}, error() {} });

interface S3Options {
  bucket?: string;
  size?: number;
  sequencer?: string;
}

/** An SQS record holding an S3 "Object Created" event as EventBridge delivers it. */
function s3Record(messageId: string, key: string, options: S3Options = {}): SqsRecord {
  return {
    messageId,
    body: JSON.stringify({
      version: '0',
      id: `id-${messageId}`,
      'detail-type': 'Object Created',
      source: 'aws.s3',
      time: '2024-03-01T10:00:00Z',
      detail: {
        bucket: { name: options.bucket ?? 'raw-bucket' },
        object: {
          key,
          size: options.size ?? 120,
          sequencer: options.sequencer ?? Buffer.from(messageId).toString('hex'),
        },
        reason: 'PutObject',
      },
    }),
  };
}

/** A data object of `orders` on day `day`; the same `n` is the same object event (key and sequencer). */
const orders = (messageId: string, n: number, day = 1) =>
  s3Record(messageId, `orders/year=2024/month=01/day=${String(day).padStart(2, '0')}/part-${n}.csv`, {
    sequencer: n.toString(16).toUpperCase().padStart(8, '0'),
  });
const ordersEvent = (n: number, day = 1): ObjectEvent => ({
  dataset: 'orders',
  partitionKey: `year=2024/month=01/day=${String(day).padStart(2, '0')}`,
  objectKey: `orders/year=2024/month=01/day=${String(day).padStart(2, '0')}/part-${n}.csv`,
  sequencer: n.toString(16).toUpperCase().padStart(8, '0'),
  size: 120,
  arrivedAt: '2024-03-01T10:00:00Z',
});
/** A data object of `clicks` (template partitioning `{dt}/{hour}/`). */
const clicks = (messageId: string, n: number) =>
  s3Record(messageId, `events/clicks/2024-03-01/10/part-${n}.json`, { sequencer: `C${n}` });

/** A fresh in-memory table with the real DynamoDB adapters; the poison sink and the executions record. */
function world(objects?: ObjectStorePort) {
  const clock = new TickingClock(START, 0);
  const store = new MemoryDynamo(() => clock.current);
  store.createTable(TABLE);
  const doc = store.doc as never;
  const executions = new RecordingExecutions();
  const poison = { send: jest.fn(async (_records: Array<{ messageId: string; body: string; reason: string }>) => {}) };
  const deps: BatchDeps = {
    config: testConfig(),
    clock,
    arrivals: new DynamoArrivalLedger(doc, TABLE, () => clock.now()),
    leases: new DynamoRunLeases(doc, TABLE),
    executions,
    batches: new DynamoArrivalBatches(doc, TABLE),
    poison,
    ...(objects ? { objects } : {}),
  };
  const pendingItems = () => store.items(TABLE).filter((i) => String(i.sk).startsWith('PENDING#'));
  const writes = () =>
    ['PutCommand', 'UpdateCommand', 'DeleteCommand', 'TransactWriteCommand'].reduce(
      (sum, c) => sum + (store.counts.get(c) ?? 0),
      0,
    );
  return { clock, store, deps, executions, poison, pendingItems, writes };
}

describe("the intake batch: a foreign bucket's record is rejected (acknowledged, never poison, never recorded)", () => {
  test('an event of another bucket with a data key: rejected naming both buckets, no key, nothing recorded', async () => {
    const w = world();
    const key = 'orders/year=2024/month=01/day=01/part-1.csv';
    const outcome = await acceptBatch({ Records: [s3Record('m-1', key, { bucket: 'other-bucket' })] }, w.deps, quiet());
    expect(outcome).toStrictEqual({
      records: [
        { messageId: 'm-1', status: 'rejected', reason: "bucket 'other-bucket' is not the raw bucket 'raw-bucket'" },
      ],
      startedExecutions: [],
      batchItemFailures: [],
    });
    expect(w.poison.send).not.toHaveBeenCalled();
    expect(w.pendingItems()).toEqual([]);
    expect(w.executions.started).toEqual([]);
  });
});

describe('the intake batch: a zero-byte object is rejected with its key; a folder marker is not called zero-byte', () => {
  test('a zero-byte data object: rejected with its key (for the log), nothing recorded, no run', async () => {
    const w = world();
    const key = 'orders/year=2024/month=01/day=01/empty.csv';
    const outcome = await acceptBatch({ Records: [s3Record('m-1', key, { size: 0 })] }, w.deps, quiet());
    expect(outcome).toStrictEqual({
      records: [{ messageId: 'm-1', status: 'rejected', reason: 'zero-byte object holds no rows', key }],
      startedExecutions: [],
      batchItemFailures: [],
    });
    expect(w.poison.send).not.toHaveBeenCalled();
    expect(w.pendingItems()).toEqual([]);
  });

  test('a one-byte object is data: accepted and recorded', async () => {
    const w = world();
    const key = 'orders/year=2024/month=01/day=01/tiny.csv';
    const outcome = await acceptBatch({ Records: [s3Record('m-1', key, { size: 1 })] }, w.deps, quiet());
    expect(outcome.records).toStrictEqual([
      {
        messageId: 'm-1',
        status: 'accepted',
        event: {
          dataset: 'orders',
          partitionKey: DAY1,
          objectKey: key,
          sequencer: Buffer.from('m-1').toString('hex'),
          size: 1,
          arrivedAt: '2024-03-01T10:00:00Z',
        },
      },
    ]);
    expect(w.pendingItems()).toHaveLength(1);
  });

  test("a zero-byte folder marker (key ending in '/') is judged by its key, not as an empty object", async () => {
    const w = world();
    const key = 'orders/year=2024/month=01/day=01/';
    const outcome = await acceptBatch({ Records: [s3Record('m-1', key, { size: 0 })] }, w.deps, quiet());
    expect(outcome.records).toStrictEqual([
      { messageId: 'm-1', status: 'rejected', reason: 'folder marker (key ends with /), not data', key },
    ]);
    expect(w.pendingItems()).toEqual([]);
  });
});

describe('the intake batch: no poison in the batch, no send to the dead-letter queue', () => {
  test('a batch of data and rejected keys makes no SendMessageBatch (SQS refuses an empty one)', async () => {
    const w = world();
    const outcome = await acceptBatch(
      { Records: [orders('m-1', 1), s3Record('m-2', 'payments/x.csv')] },
      w.deps,
      quiet(),
    );
    expect(outcome.records.map((r) => r.status)).toEqual(['accepted', 'rejected']);
    expect(w.poison.send).not.toHaveBeenCalled();
  });
});

// The key-resolution deadline (parseAll) at its exact boundaries, on fake timers. `remainingMs` is read once at the
// start; resolution ends RESOLVE_RESERVE_MS before it.
describe("the intake batch: the key-resolution deadline's exact boundaries", () => {
  /** An event whose key reads two ways ('+' literal, or a space): only HeadObject can tell. */
  const ambiguous = (n: number) =>
    s3Record(`m-${n}`, `orders/year=2024/month=01/day=01/red+flower-${n}.csv`, { sequencer: `0${n}` });
  /** A HeadObject whose answers the test gives, one key at a time. */
  function heldHeads() {
    const asked: string[] = [];
    const answers = new Map<string, () => void>();
    const headObject: ObjectStorePort['headObject'] = async (_bucket, key) => {
      asked.push(key);
      return new Promise((resolve) => answers.set(key, () => resolve('exists')));
    };
    const answer = (n: number) => answers.get(`orders/year=2024/month=01/day=01/red+flower-${n}.csv`)!();
    return { asked, answer, objects: { headObject } as ObjectStorePort };
  }
  const settle = () => jest.advanceTimersByTimeAsync(0); // microtasks only: no timer is due
  beforeEach(() => jest.useFakeTimers({ now: START }));
  afterEach(() => jest.useRealTimers());

  test('a key answered 1 ms before the deadline is recorded; one answered at the deadline is retried', async () => {
    const heads = heldHeads();
    const w = world(heads.objects);
    const pending = acceptBatch({ Records: [ambiguous(0), ambiguous(1)] }, w.deps, quiet(), {
      remainingMs: () => RESOLVE_RESERVE_MS + 1_000,
    });
    await settle();
    expect(heads.asked).toHaveLength(2);
    jest.setSystemTime(START + 999); // the clock moves; the deadline's timer is still 1 ms away
    heads.answer(0);
    await settle();
    jest.setSystemTime(START + 1_000); // exactly the deadline, its timer not yet run
    heads.answer(1);
    const outcome = await pending;
    expect(outcome.records[0]).toMatchObject({ messageId: 'm-0', status: 'accepted' });
    expect(outcome.records[1]).toStrictEqual({ messageId: 'm-1', status: 'failed', reason: DEADLINE_REASON });
    expect(outcome.batchItemFailures).toStrictEqual([{ itemIdentifier: 'm-1' }]);
  });

  test('a budget of exactly 0 ms: no key is even asked about, every record is retried', async () => {
    const heads = heldHeads();
    const w = world(heads.objects);
    const pending = acceptBatch({ Records: [ambiguous(0), ambiguous(1)] }, w.deps, quiet(), {
      remainingMs: () => RESOLVE_RESERVE_MS,
    });
    await settle();
    const outcome = await pending;
    expect(heads.asked).toEqual([]);
    expect(outcome.records).toStrictEqual([
      { messageId: 'm-0', status: 'failed', reason: DEADLINE_REASON },
      { messageId: 'm-1', status: 'failed', reason: DEADLINE_REASON },
    ]);
    expect(w.pendingItems()).toEqual([]);
  });

  test('a key whose turn comes exactly at the deadline is not asked about', async () => {
    const heads = heldHeads();
    const w = world(heads.objects);
    const records = Array.from({ length: RESOLVE_CONCURRENCY + 1 }, (_, n) => ambiguous(n));
    const pending = acceptBatch({ Records: records }, w.deps, quiet(), {
      remainingMs: () => RESOLVE_RESERVE_MS + 1_000,
    });
    await settle();
    expect(heads.asked).toHaveLength(RESOLVE_CONCURRENCY); // the last one waits for a slot
    jest.setSystemTime(START + 1_000); // the deadline, its timer not yet run: a slot frees now
    heads.answer(0);
    await settle();
    expect(heads.asked).toHaveLength(RESOLVE_CONCURRENCY);
    await jest.advanceTimersByTimeAsync(1_000);
    const outcome = await pending;
    expect(outcome.batchItemFailures).toHaveLength(RESOLVE_CONCURRENCY + 1);
  });

  test('keys still queued at the deadline are never asked about later, even if the wall clock steps back', async () => {
    // After the invocation returns, Lambda may freeze it and thaw it for the next one: what was still in flight
    // then resumes; nothing queued may start then.
    const heads = heldHeads();
    const w = world(heads.objects);
    const records = Array.from({ length: RESOLVE_CONCURRENCY + 1 }, (_, n) => ambiguous(n));
    const pending = acceptBatch({ Records: records }, w.deps, quiet(), {
      remainingMs: () => RESOLVE_RESERVE_MS + 1_000,
    });
    await jest.advanceTimersByTimeAsync(1_000);
    const outcome = await pending;
    expect(outcome.records.every((r) => r.status === 'failed' && r.reason === DEADLINE_REASON)).toBe(true);
    jest.setSystemTime(START); // the wall clock stepped back (NTP)
    for (let n = 0; n < RESOLVE_CONCURRENCY; n++) heads.answer(n);
    await settle();
    expect(heads.asked).toHaveLength(RESOLVE_CONCURRENCY);
    expect(outcome.records.every((r) => r.status === 'failed')).toBe(true);
  });

  test('a batch resolved in time leaves no deadline timer behind', async () => {
    const w = world();
    const outcome = await acceptBatch({ Records: [orders('m-1', 1)] }, w.deps, quiet(), {
      remainingMs: () => RESOLVE_RESERVE_MS + 1_000,
    });
    expect(outcome.records[0]).toMatchObject({ status: 'accepted' });
    expect(jest.getTimerCount()).toBe(0);
  });

  test('without a deadline (the local queue), a HeadObject that takes 5 minutes is waited for', async () => {
    const asked: string[] = [];
    const headObject: ObjectStorePort['headObject'] = async (_bucket, key) => {
      asked.push(key);
      await new Promise((resolve) => setTimeout(resolve, 300_000));
      return 'exists';
    };
    const w = world({ headObject } as ObjectStorePort);
    const pending = acceptBatch({ Records: [ambiguous(0)] }, w.deps, quiet());
    await jest.advanceTimersByTimeAsync(300_000);
    const outcome = await pending;
    expect(asked).toHaveLength(1);
    expect(outcome.records[0]).toMatchObject({ messageId: 'm-0', status: 'accepted' });
    expect(outcome.batchItemFailures).toEqual([]);
  });
});

describe('the intake batch: the read of the recorded markers fails', () => {
  test('every event record is retried with the error and its event; poison and rejected keep theirs; nothing else happens', async () => {
    const w = world();
    const failing: ArrivalBatchStore = {
      recordedEvents: async () => Promise.reject(new AwsThrottledError('DynamoDB BatchGetItem: throttled')),
      recordEvents: (...args) => w.deps.batches.recordEvents(...args),
    };
    const outcome = await acceptBatch(
      {
        Records: [
          orders('m-1', 1),
          { messageId: 'm-2', body: '{not json' },
          orders('m-3', 2, 2),
          s3Record('m-4', 'payments/x.csv'),
          orders('m-5', 1), // the same event as m-1
        ],
      },
      { ...w.deps, batches: failing },
      quiet(),
    );
    const reason = 'AwsThrottledError: DynamoDB BatchGetItem: throttled';
    expect(outcome).toStrictEqual({
      records: [
        { messageId: 'm-1', status: 'failed', reason, event: ordersEvent(1) },
        { messageId: 'm-2', status: 'poison', reason: 'message body is not JSON' },
        { messageId: 'm-3', status: 'failed', reason, event: ordersEvent(2, 2) },
        expect.objectContaining({ messageId: 'm-4', status: 'rejected' }),
        { messageId: 'm-5', status: 'failed', reason, event: ordersEvent(1) },
      ],
      startedExecutions: [],
      batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-3' }, { itemIdentifier: 'm-5' }],
    });
    expect(w.pendingItems()).toEqual([]);
    expect(w.executions.started).toEqual([]);
    expect(w.writes()).toBe(0);
  });
});

describe('the intake batch: a recording transaction fails', () => {
  function failingDay(w: ReturnType<typeof world>, partition: string): ArrivalBatchStore {
    return {
      recordedEvents: (events) => w.deps.batches.recordedEvents(events),
      recordEvents: async (dataset, key, events, at) => {
        if (key === partition) throw new AwsThrottledError('DynamoDB TransactWriteItems: throttled');
        return w.deps.batches.recordEvents(dataset, key, events, at);
      },
    };
  }

  test("its partition's records are retried with the error and their events; a repeat of one is retried the same way", async () => {
    const w = world();
    const outcome = await acceptBatch(
      { Records: [orders('m-1', 1), orders('m-2', 2, 2), orders('m-3', 2, 2), orders('m-4', 1)] },
      { ...w.deps, batches: failingDay(w, DAY2) },
      quiet(),
    );
    const reason = 'AwsThrottledError: DynamoDB TransactWriteItems: throttled';
    expect(outcome.records).toStrictEqual([
      { messageId: 'm-1', status: 'accepted', event: ordersEvent(1) },
      { messageId: 'm-2', status: 'failed', reason, event: ordersEvent(2, 2) },
      { messageId: 'm-3', status: 'failed', reason, event: ordersEvent(2, 2) }, // the same event as m-2
      { messageId: 'm-4', status: 'duplicate', event: ordersEvent(1) }, // the same event as m-1
    ]);
    expect(outcome.batchItemFailures).toStrictEqual([{ itemIdentifier: 'm-2' }, { itemIdentifier: 'm-3' }]);
    expect(w.pendingItems().map((i) => i.sk)).toEqual([`PENDING#${DAY1}`]);
    expect(outcome.startedExecutions).toHaveLength(1);
  });
});

describe("the intake batch: an event another delivery recorded between this one's read and its transaction", () => {
  test('is a duplicate (adds nothing); the events new to the transaction are accepted', async () => {
    const w = world();
    await w.deps.batches.recordEvents('orders', DAY1, [ordersEvent(2)], new Date(START)); // the other delivery
    const blind: ArrivalBatchStore = {
      recordedEvents: async () => new Set(), // read before the other delivery's transaction
      recordEvents: (...args) => w.deps.batches.recordEvents(...args),
    };
    const outcome = await acceptBatch(
      { Records: [orders('m-1', 1), orders('m-2', 2)] },
      { ...w.deps, batches: blind },
      quiet(),
    );
    expect(outcome.records).toStrictEqual([
      { messageId: 'm-1', status: 'accepted', event: ordersEvent(1) },
      { messageId: 'm-2', status: 'duplicate', event: ordersEvent(2) },
    ]);
    expect(w.pendingItems()).toEqual([expect.objectContaining({ sk: `PENDING#${DAY1}`, count: 2 })]);
  });
});

describe('the intake batch: a dataset with only duplicates asks for a run only while their arrivals are pending', () => {
  test('claimed and dealt with by a run that has ended: no lease attempt, no write, no run', async () => {
    const w = world();
    const first = await acceptBatch({ Records: [orders('m-1', 1)] }, w.deps, quiet());
    expect(first.startedExecutions).toHaveLength(1);
    const run = first.startedExecutions[0]!;
    // The run: takes its run lease, claims the pending partition, deals with it, gives the lease back.
    expect(await w.deps.leases.acquire('orders', run, new Date(START), RUN_LEASE_SECONDS)).toBe(true);
    expect(await w.deps.arrivals.claimPending('orders', run, new Date(START))).toEqual([DAY1]);
    await w.deps.arrivals.forgetClaim('orders', run);
    expect(await w.deps.leases.release('orders', run)).toBe(true);

    const acquire = jest.spyOn(w.deps.leases, 'acquire');
    const writes = w.writes();
    const again = await acceptBatch({ Records: [orders('m-2', 1)] }, w.deps, quiet()); // a redelivery
    expect(again).toStrictEqual({
      records: [{ messageId: 'm-2', status: 'duplicate', event: ordersEvent(1) }],
      startedExecutions: [],
      batchItemFailures: [],
    });
    expect(acquire).not.toHaveBeenCalled();
    expect(w.writes()).toBe(writes);
    expect(w.executions.started).toHaveLength(1);
  });

  test('still pending (the first delivery recorded them, then failed to start): a run is started', async () => {
    const w = world();
    await w.deps.batches.recordEvents('orders', DAY1, [ordersEvent(1)], new Date(START)); // the crashed delivery
    const outcome = await acceptBatch({ Records: [orders('m-1', 1)] }, w.deps, quiet());
    expect(outcome.records).toStrictEqual([{ messageId: 'm-1', status: 'duplicate', event: ordersEvent(1) }]);
    expect(outcome.startedExecutions).toHaveLength(1);
    expect(w.executions.started.map((s) => s.input)).toEqual([{ dataset: 'orders', trigger: 'arrival' }]);
  });

  test('a dataset with a new arrival goes straight to its lease attempt: pending is read once, by the start', async () => {
    const w = world();
    const pendingSummary = jest.spyOn(w.deps.arrivals, 'pendingSummary');
    const outcome = await acceptBatch({ Records: [orders('m-1', 1)] }, w.deps, quiet());
    expect(outcome.startedExecutions).toHaveLength(1);
    expect(pendingSummary).toHaveBeenCalledTimes(1);
  });
});

describe('the intake batch: the live-lease check', () => {
  test('a live run lease: no lease attempt and no start (its holder picks the arrivals up), logged with its owner', async () => {
    const w = world();
    const holder = w.executions.executionArnFor('orders-arrival-holder');
    await w.deps.leases.acquire('orders', holder, new Date(START), RUN_LEASE_SECONDS);
    const acquire = jest.spyOn(w.deps.leases, 'acquire');
    const log = quiet();
    const outcome = await acceptBatch({ Records: [orders('m-1', 1)] }, w.deps, log);
    expect(outcome).toStrictEqual({
      records: [{ messageId: 'm-1', status: 'accepted', event: ordersEvent(1) }],
      startedExecutions: [],
      batchItemFailures: [],
    });
    expect(acquire).not.toHaveBeenCalled();
    expect(w.executions.started).toEqual([]);
    expect(log.debug).toHaveBeenCalledWith(expect.any(String), { dataset: 'orders', owner: holder });
  });

  test('a run lease that expired 1 ms ago is taken over: a run is started', async () => {
    const w = world();
    const dead = w.executions.executionArnFor('orders-arrival-dead');
    const expiredAt = START - 1;
    await w.deps.leases.acquire('orders', dead, new Date(expiredAt - RUN_LEASE_SECONDS * 1000), RUN_LEASE_SECONDS);
    expect(Date.parse((await w.deps.leases.current('orders'))!.expiresAt)).toBe(expiredAt);
    const outcome = await acceptBatch({ Records: [orders('m-1', 1)] }, w.deps, quiet());
    expect(outcome.startedExecutions).toHaveLength(1);
    expect(w.executions.started).toHaveLength(1);
    expect((await w.deps.leases.current('orders'))!.owner).toBe(outcome.startedExecutions[0]);
  });

  test('a live start-up lease is no reason to wait: its StartExecution is re-issued (nothing new started)', async () => {
    const w = world();
    const name = 'orders-arrival-starting';
    const starter = w.executions.executionArnFor(name);
    const input = { dataset: 'orders', trigger: 'arrival' as const };
    await w.deps.leases.acquire('orders', starter, new Date(START), STARTUP_LEASE_SECONDS, undefined, { name, input });
    const outcome = await acceptBatch({ Records: [orders('m-1', 1)] }, w.deps, quiet());
    expect(outcome).toStrictEqual({
      records: [{ messageId: 'm-1', status: 'accepted', event: ordersEvent(1) }],
      startedExecutions: [],
      batchItemFailures: [],
    });
    expect(w.executions.started).toEqual([{ name, input }]);
  });
});

describe("the intake batch: a failed run start retries the dataset's records; those this delivery recorded are marked", () => {
  test('the accepted record is failed with `recorded: true` (counted once), the duplicate without; the other dataset goes on', async () => {
    const w = world();
    await w.deps.batches.recordEvents('orders', DAY1, [ordersEvent(1)], new Date(START)); // an earlier delivery
    const executions = w.executions;
    const flaky = {
      executionArnFor: (name: string) => executions.executionArnFor(name),
      startExecution: async (name: string, input: never) => {
        if (name.startsWith('orders-')) throw new AwsThrottledError('SFN StartExecution: throttled');
        return executions.startExecution(name, input);
      },
    };
    const outcome = await acceptBatch(
      { Records: [orders('m-1', 1), orders('m-2', 2), clicks('m-3', 1)] },
      { ...w.deps, executions: flaky },
      quiet(),
    );
    const reason = 'AwsThrottledError: SFN StartExecution: throttled';
    expect(outcome.records).toStrictEqual([
      { messageId: 'm-1', status: 'failed', reason, event: ordersEvent(1) },
      { messageId: 'm-2', status: 'failed', reason, event: ordersEvent(2), recorded: true },
      { messageId: 'm-3', status: 'accepted', event: expect.objectContaining({ dataset: 'clicks' }) },
    ]);
    expect(outcome.batchItemFailures).toStrictEqual([{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }]);
    expect(outcome.startedExecutions).toEqual([executions.executionArnFor(executions.started[0]!.name)]);
    expect(executions.started.map((s) => s.input.dataset)).toEqual(['clicks']);
  });
});

describe('the intake batch: one recording transaction per chunk of at most 98 events of a partition, never an empty one', () => {
  function countingStore(w: ReturnType<typeof world>) {
    const calls: Array<{ partition: string; events: number }> = [];
    const store: ArrivalBatchStore = {
      recordedEvents: (events) => w.deps.batches.recordedEvents(events),
      recordEvents: async (dataset, partition, events, at) => {
        calls.push({ partition, events: events.length });
        return w.deps.batches.recordEvents(dataset, partition, events, at);
      },
    };
    return { calls, store };
  }
  const many = (count: number, day = 1) => Array.from({ length: count }, (_, n) => orders(`m-${day}-${n}`, n, day));

  test(`exactly ${RECORD_CHUNK} events: one transaction`, async () => {
    const w = world();
    const { calls, store } = countingStore(w);
    const outcome = await acceptBatch({ Records: many(RECORD_CHUNK) }, { ...w.deps, batches: store }, quiet());
    expect(calls).toEqual([{ partition: DAY1, events: RECORD_CHUNK }]);
    expect(outcome.records.every((r) => r.status === 'accepted')).toBe(true);
  });

  test(`${RECORD_CHUNK + 1} events of one partition and 2 of another: ${RECORD_CHUNK} + 1, then 2; all recorded`, async () => {
    const w = world();
    const { calls, store } = countingStore(w);
    const outcome = await acceptBatch(
      { Records: [...many(RECORD_CHUNK + 1), ...many(2, 2)] },
      { ...w.deps, batches: store },
      quiet(),
    );
    expect(calls).toEqual([
      { partition: DAY1, events: RECORD_CHUNK },
      { partition: DAY1, events: 1 },
      { partition: DAY2, events: 2 },
    ]);
    expect(outcome.batchItemFailures).toEqual([]);
    expect(outcome.records.every((r) => r.status === 'accepted')).toBe(true);
    expect(w.pendingItems().map((i) => [i.sk, i.count])).toEqual([
      [`PENDING#${DAY1}`, RECORD_CHUNK + 1],
      [`PENDING#${DAY2}`, 2],
    ]);
  });
});
