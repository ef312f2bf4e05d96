/**
 * The batch intake's store (adapters/aws/dynamo-arrival-batches.ts) on the in-memory DynamoDB, in the cases the
 * intake tests rarely reach: a marker written by a concurrent delivery between the intake's read and its
 * transaction (the cancellation path), a transaction cancelled for another reason, BatchGetItem's unprocessed keys
 * and pages of 100. Found by mutation testing (`npm run mutate`): each test kills mutants no other test did.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoArrivalBatches } from '../../adapters/aws/dynamo-arrival-batches';
import { MemoryDynamo } from '../../adapters/memory/dynamo';
import { AwsThrottledError } from '../../domain/errors';
import { eventId, RECORD_CHUNK, type ObjectEvent } from '../../domain/intake-batch';

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
