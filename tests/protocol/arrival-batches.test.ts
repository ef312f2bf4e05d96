/**
 * The batch intake's store (adapters/aws/dynamo-arrival-batches.ts) on the in-memory DynamoDB, in the cases the
 * intake tests rarely reach: a marker written by a concurrent delivery between the intake's read and its
 * transaction (the cancellation path), a transaction cancelled for another reason, BatchGetItem's unprocessed keys
 * and pages of 100. Found by mutation testing (`npm run mutate`): each test kills mutants no other test did.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoArrivalBatches } from '../../adapters/aws/dynamo-arrival-batches';
import { MemoryDynamo } from '../../adapters/memory/dynamo';
import { AwsThrottledError, type ObjectStorePort } from '../../domain/common';
import {
  acceptBatch,
  eventId,
  RECORD_CHUNK,
  RESOLVE_RESERVE_MS,
  type BatchDeps,
  type ObjectEvent,
  type SqsRecord,
} from '../../domain/intake/batch';
import { memoryBatchDeps } from '../support/intake-deps';

const TABLE = 'state';
const PARTITION = 'year=2024/month=03/day=01';
const AT = new Date('2024-03-01T10:00:00Z');

const event = (n: number): ObjectEvent => ({
  dataset: 'orders',
  partitionKey: PARTITION,
  objectKey: `orders/year=2024/month=03/day=01/part-${n}.csv`,
  sequencer: n.toString(16).padStart(8, '0'),
  size: 10,
  arrivedAt: AT.toISOString(),
});

function world() {
  const store = new MemoryDynamo(() => AT.getTime());
  store.createTable(TABLE);
  const doc = store.doc as unknown as DynamoDBDocumentClient;
  return { store, doc, batches: new DynamoArrivalBatches(doc, TABLE) };
}

const pendingCount = (store: MemoryDynamo) =>
  store.items(TABLE).find((i) => i.sk === `PENDING#${PARTITION}`)?.count ?? 0;
const arrivals = (store: MemoryDynamo) => store.items(TABLE).find((i) => i.sk === 'LEASE')?.arrivals ?? 0;

describe('recordEvents', () => {
  test('a marker a concurrent delivery wrote is a duplicate; the rest is recorded in one more transaction', async () => {
    const { store, batches } = world();
    await batches.recordEvents('orders', PARTITION, [event(2)], AT); // the other delivery's transaction
    const result = await batches.recordEvents('orders', PARTITION, [event(1), event(2), event(3)], AT);
    expect(result.duplicates).toEqual([event(2)]);
    expect(result.recorded).toEqual([event(1), event(3)]);
    expect(pendingCount(store)).toBe(3); // 1 + 2, each arrival counted once
    expect(arrivals(store)).toBe(2); // one bump per recording transaction (the give-back's counter)
  });

  test('all of them recorded before: nothing recorded, all duplicates, nothing counted', async () => {
    const { store, batches } = world();
    await batches.recordEvents('orders', PARTITION, [event(1), event(2)], AT);
    const result = await batches.recordEvents('orders', PARTITION, [event(2), event(1)], AT);
    expect(result).toEqual({ recorded: [], duplicates: [event(2), event(1)] });
    expect(pendingCount(store)).toBe(2);
    expect(arrivals(store)).toBe(1); // the second call recorded nothing
  });

  test('a transaction cancelled for another reason (a conflict) is an error, never a duplicate', async () => {
    const { store } = world();
    const conflict = Object.assign(new Error('Transaction cancelled'), {
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }, { Code: 'None' }],
      $metadata: {},
    });
    const failing = { send: async () => Promise.reject(conflict) } as unknown as DynamoDBDocumentClient;
    await expect(
      new DynamoArrivalBatches(failing, TABLE).recordEvents('orders', PARTITION, [event(1)], AT),
    ).rejects.toThrow();
    expect(store.items(TABLE)).toHaveLength(0);
  });

  test('a transaction throttled outright is the mapped, retryable error', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} });
    const failing = { send: async () => Promise.reject(throttled) } as unknown as DynamoDBDocumentClient;
    await expect(
      new DynamoArrivalBatches(failing, TABLE).recordEvents('orders', PARTITION, [event(1)], AT),
    ).rejects.toBeInstanceOf(AwsThrottledError);
  });

  test(`at most ${RECORD_CHUNK} events per call (one transaction of 100 actions)`, async () => {
    const { batches } = world();
    const many = Array.from({ length: RECORD_CHUNK + 1 }, (_, i) => event(i + 1));
    await expect(batches.recordEvents('orders', PARTITION, many, AT)).rejects.toThrow(/at most 98/);
    const result = await batches.recordEvents('orders', PARTITION, many.slice(0, RECORD_CHUNK), AT);
    expect(result.recorded).toHaveLength(RECORD_CHUNK);
  });
});

describe('recordedEvents', () => {
  test('pages of 100 keys, consistent reads, and only the markers that exist', async () => {
    const { doc, batches } = world();
    const events = Array.from({ length: 150 }, (_, i) => event(i + 1));
    await batches.recordEvents('orders', PARTITION, events.slice(0, 60), AT);
    await batches.recordEvents('orders', PARTITION, events.slice(120, 130), AT);
    const send = jest.spyOn(doc, 'send');
    const seen = await batches.recordedEvents(events);
    expect([...seen].sort()).toEqual([...events.slice(0, 60), ...events.slice(120, 130)].map(eventId).sort());
    const gets = send.mock.calls.map(([c]) => (c as BatchGetCommand).input.RequestItems![TABLE]!);
    expect(gets.map((g) => g.Keys!.length)).toEqual([100, 50]);
    expect(gets.every((g) => g.ConsistentRead === true)).toBe(true);
  });

  test('unprocessed keys are asked again until answered', async () => {
    const { doc, batches } = world();
    await batches.recordEvents('orders', PARTITION, [event(1), event(2)], AT);
    const send = doc.send.bind(doc) as (c: BatchGetCommand) => Promise<unknown>;
    let calls = 0;
    jest.spyOn(doc, 'send').mockImplementation((async (command: BatchGetCommand) => {
      calls++;
      const keys = command.input.RequestItems![TABLE]!.Keys!;
      if (calls > 1) return send(command);
      // First answer: the first key's item, the second key unprocessed (throughput exceeded).
      const answer = (await send(new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: keys.slice(0, 1) } } }))) as {
        Responses: Record<string, unknown[]>;
      };
      return { Responses: answer.Responses, UnprocessedKeys: { [TABLE]: { Keys: keys.slice(1) } } };
    }) as never);
    const seen = await batches.recordedEvents([event(1), event(2)]);
    expect([...seen].sort()).toEqual([event(1), event(2)].map(eventId).sort());
    expect(calls).toBe(2);
  });

  test('keys still unprocessed after 5 attempts: a retryable throttling error, after exactly 5 calls', async () => {
    const { doc, batches } = world();
    let calls = 0;
    jest.spyOn(doc, 'send').mockImplementation((async (command: BatchGetCommand) => {
      calls++;
      return { UnprocessedKeys: { [TABLE]: { Keys: command.input.RequestItems![TABLE]!.Keys } } };
    }) as never);
    await expect(batches.recordedEvents([event(1)])).rejects.toBeInstanceOf(AwsThrottledError);
    expect(calls).toBe(5);
  });

  test('an answer without Responses (every key unprocessed or none found) is read as nothing seen', async () => {
    const { doc, batches } = world();
    jest.spyOn(doc, 'send').mockImplementation((async () => ({})) as never);
    expect((await batches.recordedEvents([event(1)])).size).toBe(0);
  });
});

// The batch intake's key-resolution deadline (domain/intake/batch.ts parseAll), on fake timers so it never
// depends on machine speed. tests/integration/intake-key-resolution.test.ts holds the same on S3's real adapter
// with real time; it is not in the mutation run, so these keep its mutants guarded there.
describe('the batch intake stops resolving keys at its deadline', () => {
  const START = Date.parse('2024-03-01T10:00:00Z');
  /** An event whose key reads two ways ('+' literal, or a space): only HeadObject can tell. */
  const ambiguous = (n: number): SqsRecord => ({
    messageId: `m-${n}`,
    body: JSON.stringify({
      version: '0',
      id: `id-${n}`,
      'detail-type': 'Object Created',
      source: 'aws.s3',
      time: '2024-03-01T10:00:00Z',
      detail: {
        bucket: { name: 'raw-bucket' },
        object: { key: `orders/year=2024/month=01/day=01/red+flower-${n}.csv`, size: 120, sequencer: `0${n}` },
        reason: 'PutObject',
      },
    }),
  });
  function batchDeps(headObject: ObjectStorePort['headObject']): BatchDeps {
    return memoryBatchDeps(START, { headObject });
  }

  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const numberOf = (key: string) => Number(/flower-(\d+)/.exec(key)![1]);
  beforeEach(() => jest.useFakeTimers({ now: START }));
  afterEach(() => jest.useRealTimers());

  test('keys that hang past it are failures to retry, with the reason; those answered in time are recorded', async () => {
    const deps = batchDeps(async (_bucket, key) => {
      if (numberOf(key) % 2 === 1) await new Promise(() => undefined); // never answers
      return 'exists';
    });
    const records = Array.from({ length: 40 }, (_, n) => ambiguous(n));
    const pending = acceptBatch({ Records: records }, deps, quiet, { remainingMs: () => RESOLVE_RESERVE_MS + 1_000 });
    await jest.advanceTimersByTimeAsync(999);
    let done = false;
    void pending.then(() => (done = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(done).toBe(false); // the deadline has not come: the resolution is still waiting
    await jest.advanceTimersByTimeAsync(1);
    const outcome = await pending;
    const statusOf = (n: number) => outcome.records.find((r) => r.messageId === `m-${n}`)!;
    // 16 at a time: the odd keys up to 31 hang and hold every slot; every even key before them was answered.
    for (let n = 0; n < 40; n += 1) {
      if (n % 2 === 0 && n <= 30) expect(statusOf(n)).toMatchObject({ status: 'accepted' });
      else
        expect(statusOf(n)).toEqual({
          messageId: `m-${n}`,
          status: 'failed',
          reason: "its key was not resolved before the invocation's deadline; retried",
        });
    }
    expect(outcome.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
      outcome.records.filter((r) => r.status === 'failed').map((r) => r.messageId),
    );
    expect(outcome.startedExecutions).toHaveLength(1);
  });

  test('a key answered after the deadline is still a failure (what was reported is not changed later)', async () => {
    const deps = batchDeps(async () => {
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // answers, but after the deadline
      return 'exists';
    });
    const pending = acceptBatch({ Records: [ambiguous(0)] }, deps, quiet, {
      remainingMs: () => RESOLVE_RESERVE_MS + 1_000,
    });
    await jest.advanceTimersByTimeAsync(1_000);
    const outcome = await pending;
    expect(outcome.records).toEqual([expect.objectContaining({ messageId: 'm-0', status: 'failed' })]);
    await jest.advanceTimersByTimeAsync(1_000); // the late answer comes: the outcome stays as reported
    expect(outcome.records).toEqual([expect.objectContaining({ messageId: 'm-0', status: 'failed' })]);
  });

  test('no time left at all: no key is resolved, every record is retried', async () => {
    const headObject = jest.fn(async () => 'exists' as const);
    const pending = acceptBatch({ Records: [ambiguous(0), ambiguous(1)] }, batchDeps(headObject), quiet, {
      remainingMs: () => RESOLVE_RESERVE_MS - 5_000,
    });
    await jest.advanceTimersByTimeAsync(0);
    const outcome = await pending;
    expect(headObject).not.toHaveBeenCalled();
    expect(outcome.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }, { itemIdentifier: 'm-1' }]);
  });

  test('a key whose HeadObject fails (throttled) is retried alone, with the error named; a non-Error too', async () => {
    const deps = batchDeps(async (_bucket, key) => {
      if (numberOf(key) === 1) throw Object.assign(new Error('Slow Down'), { name: 'AwsThrottledError' });
      if (numberOf(key) === 2) throw 'connection reset'; // not an Error: reported through String()
      return 'exists';
    });
    const outcome = await acceptBatch({ Records: [ambiguous(0), ambiguous(1), ambiguous(2)] }, deps, quiet);
    expect(outcome.records).toEqual([
      expect.objectContaining({ messageId: 'm-0', status: 'accepted' }),
      { messageId: 'm-1', status: 'failed', reason: 'AwsThrottledError: Slow Down' },
      { messageId: 'm-2', status: 'failed', reason: 'Error: connection reset' },
    ]);
    expect(outcome.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }]);
  });
});
