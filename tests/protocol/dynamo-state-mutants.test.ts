/**
 * The storage half of the run protocol (adapters/aws/dynamo-state.ts) on its own: the paths that the protocol
 * tests never reach (conflict retries, a lost lease, a claim or a return that meets a moved or vanished item, the
 * return's time budget, the arrival counter). Written against the mutants of `npx stryker run stryker.config.mjs
 * --mutate adapters/aws/dynamo-state.ts` that every other test let live (issue 21, point 6). Runs on moto in
 * `npm test` and on the in-memory DynamoDB under Stryker (tests/protocol/stryker-env.ts); each test holds on both.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  cancellationCodes,
  CHUNK_PARTITIONS,
  DynamoArrivalLedger,
  DynamoRunLeases,
} from '../../adapters/aws/dynamo-state';
import { dynamoWorld, startDynamo, type LocalDynamo } from '../support/dynamo';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynamo();
}, 120_000);
afterAll(async () => {
  await dynamo.stop();
});
afterEach(() => jest.restoreAllMocks());

type World = Awaited<ReturnType<typeof dynamoWorld>>;
type Command = { constructor: { name: string }; input: Record<string, unknown> };
const day = (d: number) => `year=2024/month=03/day=${String(d).padStart(2, '0')}`;
const arrival = (partitionKey: string, sequencer = '01') => ({
  dataset: 'orders',
  partitionKey,
  objectKey: `orders/${partitionKey}/a.csv`,
  sequencer,
  size: 1,
  arrivedAt: '2024-03-01T10:00:00Z',
});
const pendingKey = (partition: string) => ({ pk: 'DS#orders', sk: `PENDING#${partition}` });
const claimKey = (arn: string) => ({ pk: 'DS#orders', sk: `CLAIM#${arn}` });

/** A cancellation as DynamoDB answers it: one reason per action, in request order. */
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    CancellationReasons: codes.map((Code) => ({ Code })),
    $metadata: {},
  });

/**
 * Intercepts the shared client: `before` sees each command first (and may write beside it, or answer in its
 * place by returning an error to throw); every command is recorded.
 */
function intercept(before: (command: Command, send: (c: object) => Promise<unknown>) => Promise<unknown> | unknown) {
  const original = dynamo.doc.send.bind(dynamo.doc) as (command: unknown) => Promise<unknown>;
  const seen: Command[] = [];
  jest.spyOn(dynamo.doc, 'send').mockImplementation((async (command: Command) => {
    seen.push(command);
    const answer = await before(command, original);
    if (answer !== undefined) throw answer;
    return original(command);
  }) as never);
  return seen;
}
const isTransaction = (c: Command) => c.constructor.name === 'TransactWriteCommand';
const touches = (c: Command, sk: string) => JSON.stringify(c.input).includes(`"${sk}"`);

/** Another arrival on a pending partition, sent past the interceptor (what recordArrival's update does to it). */
const bump = (w: World, send: (c: object) => Promise<unknown>, partition: string) =>
  send(
    new UpdateCommand({
      TableName: w.table,
      Key: pendingKey(partition),
      UpdateExpression: 'SET lastAt = :at ADD #count :one, version :one',
      ExpressionAttributeNames: { '#count': 'count' },
      ExpressionAttributeValues: { ':at': w.clock.now().getTime(), ':one': 1 },
    }),
  );

/** The lease store with its arrival counter (the port keeps the counter to the adapter). */
const counter = (w: World) => new DynamoRunLeases(dynamo.doc, w.table);

async function item(w: World, key: { pk: string; sk: string }) {
  const { Item } = await dynamo.doc.send(new GetCommand({ TableName: w.table, Key: key, ConsistentRead: true }));
  return Item;
}

/** Claims `partitions` for `arn` while holding the lease. */
async function claimed(w: World, arn: string, partitions: string[]) {
  for (const p of partitions) await w.deps.arrivals.recordArrival(arrival(p));
  expect(await w.deps.leases.acquire('orders', arn, w.clock.now(), 60)).toBe(true);
  expect(await w.deps.arrivals.claimPending('orders', arn, w.clock.now())).toEqual(partitions);
}

describe('a transaction that meets another one on an item is tried again, with the same token', () => {
  test.each(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded'])(
    'an arrival cancelled twice by %s (the other actions: None) is recorded once on the third attempt',
    async (code) => {
      jest.spyOn(Math, 'random').mockReturnValue(0);
      const w = await dynamoWorld(dynamo);
      let failures = 0;
      const seen = intercept((c) => (isTransaction(c) && failures++ < 2 ? cancelled('None', code, 'None') : undefined));
      expect(await w.deps.arrivals.recordArrival(arrival(day(1)))).toEqual({ duplicate: false });
      const tokens = seen.filter(isTransaction).map((c) => c.input.ClientRequestToken);
      expect(tokens).toHaveLength(3);
      expect(new Set(tokens).size).toBe(1);
      jest.restoreAllMocks();
      expect(await item(w, pendingKey(day(1)))).toMatchObject({ count: 1, version: 1 });
      expect(await counter(w).arrivals('orders')).toBe(1);
    },
  );

  test('after five cancelled attempts the error is retryable, carries the last cancellation, and nothing is written', async () => {
    const w = await dynamoWorld(dynamo);
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const pauses: number[] = [];
    const realSetTimeout = global.setTimeout;
    jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      pauses.push(ms ?? 0);
      return realSetTimeout(fn, ms);
    }) as never);
    const conflict = cancelled('None', 'TransactionConflict', 'None');
    const seen = intercept((c) => (isTransaction(c) ? conflict : undefined));
    const error = await w.deps.arrivals.recordArrival(arrival(day(1))).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AwsThrottledError', cause: conflict });
    expect(seen.filter(isTransaction)).toHaveLength(5);
    // A random pause before each retry, growing with the attempt: at most 20 ms times the attempt (here half).
    expect(pauses).toEqual([10, 20, 30, 40]);
    jest.restoreAllMocks();
    expect(await item(w, pendingKey(day(1)))).toBeUndefined();
  });

  test('a cancellation with a failed condition is not retried, even beside a conflict: the arrival is a duplicate', async () => {
    const w = await dynamoWorld(dynamo);
    const seen = intercept((c) =>
      isTransaction(c) ? cancelled('ConditionalCheckFailed', 'TransactionConflict', 'None') : undefined,
    );
    expect(await w.deps.arrivals.recordArrival(arrival(day(1)))).toEqual({ duplicate: true });
    expect(seen.filter(isTransaction)).toHaveLength(1);
  });

  test('a cancellation for another reason is not retried and reaches the caller as it is', async () => {
    const w = await dynamoWorld(dynamo);
    const other = cancelled('None', 'ValidationError', 'None');
    const seen = intercept((c) => (isTransaction(c) ? other : undefined));
    await expect(w.deps.arrivals.recordArrival(arrival(day(1)))).rejects.toBe(other);
    expect(seen.filter(isTransaction)).toHaveLength(1);
  });

  test('a cancellation without reasons has no codes; anything else is no cancellation', () => {
    expect(cancellationCodes({ name: 'TransactionCanceledException' })).toEqual([]);
    expect(cancellationCodes({ name: 'TransactionCanceledException', CancellationReasons: [{}] })).toEqual(['None']);
    expect(cancellationCodes({ name: 'ConditionalCheckFailedException' })).toBeUndefined();
    expect(cancellationCodes(null)).toBeUndefined();
  });

  test('a call rejected with no error object at all is a named DynamoDB error, not a TypeError', async () => {
    const w = await dynamoWorld(dynamo);
    intercept(() => null);
    await expect(w.deps.arrivals.recordArrival(arrival(day(1)))).rejects.toThrow(/^DynamoDB TransactWriteItems: /);
    await expect(w.deps.leases.acquire('orders', 'A', w.clock.now(), 60)).rejects.toThrow(/^DynamoDB UpdateItem: /);
  });
});

describe('claiming takes only what the lease holder may take', () => {
  test('a run that does not hold the lease claims nothing: LeaseHeldError, everything stays pending', async () => {
    const w = await dynamoWorld(dynamo);
    await w.deps.arrivals.recordArrival(arrival(day(1)));
    expect(await w.deps.leases.acquire('orders', 'arn:other', w.clock.now(), 60)).toBe(true);
    await expect(w.deps.arrivals.claimPending('orders', 'arn:a', w.clock.now())).rejects.toMatchObject({
      name: 'LeaseHeldError',
    });
    expect(await item(w, claimKey('arn:a'))).toBeUndefined();
    expect(await item(w, pendingKey(day(1)))).toMatchObject({ count: 1 });
  });

  test('a claim cancelled for a reason other than a condition fails with it, and claims nothing', async () => {
    const w = await dynamoWorld(dynamo);
    await w.deps.arrivals.recordArrival(arrival(day(1)));
    await w.deps.leases.acquire('orders', 'arn:a', w.clock.now(), 60);
    const other = cancelled('None', 'None', 'ValidationError');
    const seen = intercept((c) => (isTransaction(c) ? other : undefined));
    await expect(w.deps.arrivals.claimPending('orders', 'arn:a', w.clock.now())).rejects.toBe(other);
    expect(seen.filter(isTransaction)).toHaveLength(1);
    jest.restoreAllMocks();
    expect(await item(w, pendingKey(day(1)))).toMatchObject({ count: 1 });
  });

  test('a lone partition that keeps changing: the claim gives up on it after five tries and takes nothing', async () => {
    const w = await dynamoWorld(dynamo);
    await w.deps.arrivals.recordArrival(arrival(day(1)));
    await w.deps.leases.acquire('orders', 'arn:a', w.clock.now(), 60);
    const seen = intercept(async (c, send) => {
      if (isTransaction(c) && touches(c, `PENDING#${day(1)}`)) await bump(w, send, day(1));
    });
    expect(await w.deps.arrivals.claimPending('orders', 'arn:a', w.clock.now())).toEqual([]);
    const claims = seen.filter((c) => isTransaction(c) && touches(c, 'CLAIM#arn:a'));
    expect(claims).toHaveLength(5);
    // Every re-read of the moved item is strongly consistent: an eventually consistent read could return the
    // version the claim just failed on, and the retry would fail on it again.
    const rereads = seen.filter((c) => c.constructor.name === 'GetCommand' && touches(c, `PENDING#${day(1)}`));
    expect(rereads).toHaveLength(4);
    for (const r of rereads) expect(r.input.ConsistentRead).toBe(true);
    jest.restoreAllMocks();
    expect(await item(w, pendingKey(day(1)))).toMatchObject({ count: 6 });
  });

  test('a chunk is tried at most six times: what moved on the sixth stays pending, with the rest of the chunk', async () => {
    const w = await dynamoWorld(dynamo);
    for (const d of [1, 2, 3]) await w.deps.arrivals.recordArrival(arrival(day(d)));
    await w.deps.leases.acquire('orders', 'arn:a', w.clock.now(), 60);
    const seen = intercept(async (c, send) => {
      if (!isTransaction(c)) return;
      // Day 1 moves under each of the first five attempts (then it is left out); day 2 moves under the sixth.
      if (touches(c, `PENDING#${day(1)}`)) await bump(w, send, day(1));
      else if (touches(c, `PENDING#${day(2)}`)) await bump(w, send, day(2));
    });
    expect(await w.deps.arrivals.claimPending('orders', 'arn:a', w.clock.now())).toEqual([]);
    expect(seen.filter((c) => isTransaction(c) && touches(c, 'CLAIM#arn:a'))).toHaveLength(6);
    jest.restoreAllMocks();
    expect(await w.deps.arrivals.pendingSummary('orders')).toMatchObject({ partitions: 3 });
  });

  test('a moved partition that is gone when read again is left out; the rest of the chunk is claimed', async () => {
    const w = await dynamoWorld(dynamo);
    for (const d of [1, 2]) await w.deps.arrivals.recordArrival(arrival(day(d)));
    await w.deps.leases.acquire('orders', 'arn:a', w.clock.now(), 60);
    let moved = false;
    intercept(async (c, send) => {
      if (isTransaction(c) && !moved) {
        moved = true;
        await bump(w, send, day(1));
      }
      if (c.constructor.name === 'GetCommand' && touches(c, `PENDING#${day(1)}`))
        await send(new DeleteCommand({ TableName: w.table, Key: pendingKey(day(1)) }));
    });
    expect(await w.deps.arrivals.claimPending('orders', 'arn:a', w.clock.now())).toEqual([day(2)]);
  });
});

describe('returning a claim', () => {
  test('a run that does not hold the lease returns nothing: LeaseHeldError, the claim stays whole', async () => {
    const w = await dynamoWorld(dynamo);
    await claimed(w, 'arn:a', [day(1), day(2)]);
    w.clock.advance(120); // the lease expired; another run takes it
    expect(await w.deps.leases.acquire('orders', 'arn:b', w.clock.now(), 60)).toBe(true);
    await expect(w.deps.arrivals.returnClaim('orders', 'arn:a')).rejects.toMatchObject({ name: 'LeaseHeldError' });
    expect([...((await item(w, claimKey('arn:a')))?.partitions as Set<string>)].sort()).toEqual([day(1), day(2)]);
    expect(await w.deps.arrivals.pendingSummary('orders')).toBeNull();
  });

  test('a claim that vanishes while it is returned (returned by another) gives nothing back twice', async () => {
    const w = await dynamoWorld(dynamo);
    await claimed(w, 'arn:a', [day(1)]);
    intercept(async (c, send) => {
      if (isTransaction(c)) await send(new DeleteCommand({ TableName: w.table, Key: claimKey('arn:a') }));
    });
    expect(await w.deps.arrivals.returnClaim('orders', 'arn:a')).toEqual([]);
    jest.restoreAllMocks();
    expect(await w.deps.arrivals.pendingSummary('orders')).toBeNull();
  });

  test('returning a claim that does not exist writes nothing', async () => {
    const w = await dynamoWorld(dynamo);
    const seen = intercept(() => undefined);
    expect(await w.deps.arrivals.returnClaim('orders', 'arn:none')).toEqual([]);
    expect(seen.map((c) => c.constructor.name)).toEqual(['GetCommand']);
  });

  test('a return that crashed after its last chunk, before forgetting the emptied claim: the retry forgets it', async () => {
    const w = await dynamoWorld(dynamo);
    await w.deps.leases.acquire('orders', 'arn:a', w.clock.now(), 60);
    // What the last chunk leaves: the claim item without partitions (DynamoDB has no empty sets).
    await dynamo.doc.send(
      new PutCommand({ TableName: w.table, Item: { ...claimKey('arn:a'), claimedAt: 1, firstAt: 1, lastAt: 1 } }),
    );
    expect(await w.deps.arrivals.returnClaim('orders', 'arn:a')).toEqual([]);
    expect(await item(w, claimKey('arn:a'))).toBeUndefined();
  });

  test('a claim of more than 98 partitions goes back in chunks; out of time, the retry resumes with the rest', async () => {
    const w = await dynamoWorld(dynamo);
    await w.deps.leases.acquire('orders', 'arn:a', w.clock.now(), 60);
    const partitions = Array.from({ length: CHUNK_PARTITIONS + 2 }, (_, i) => `p=${String(i).padStart(3, '0')}`);
    await dynamo.doc.send(
      new PutCommand({
        TableName: w.table,
        Item: { ...claimKey('arn:a'), partitions: new Set(partitions), claimedAt: 1, firstAt: 1_000, lastAt: 2_000 },
      }),
    );
    // The first chunk's round trip takes exactly the budget: the second chunk is not started.
    let first = true;
    intercept((c) => {
      if (isTransaction(c) && first) {
        first = false;
        w.clock.advance(1);
      }
    });
    await expect(w.deps.arrivals.returnClaim('orders', 'arn:a', [], { budgetMs: 1_000 })).rejects.toMatchObject({
      name: 'AwsThrottledError',
    });
    jest.restoreAllMocks();
    expect((await w.deps.arrivals.pendingSummary('orders'))?.partitions).toBe(CHUNK_PARTITIONS);
    expect([...((await item(w, claimKey('arn:a')))?.partitions as Set<string>)].sort()).toEqual(
      partitions.slice(CHUNK_PARTITIONS),
    );
    expect(await w.deps.arrivals.returnClaim('orders', 'arn:a', [], { budgetMs: 1_000 })).toEqual(
      partitions.slice(CHUNK_PARTITIONS),
    );
    expect(await w.deps.arrivals.pendingSummary('orders')).toEqual({
      partitions: CHUNK_PARTITIONS + 2,
      firstArrivalAt: new Date(1_000).toISOString(),
      lastArrivalAt: new Date(2_000).toISOString(),
    });
    expect(await item(w, claimKey('arn:a'))).toBeUndefined();
  });
});

describe('the lease item', () => {
  test('its arrival counter: 0 for a dataset never seen, then one per recorded arrival, read consistently', async () => {
    const w = await dynamoWorld(dynamo);
    const seen = intercept(() => undefined);
    expect(await counter(w).arrivals('orders')).toBe(0);
    jest.restoreAllMocks();
    await w.deps.arrivals.recordArrival(arrival(day(1)));
    await w.deps.arrivals.recordArrival(arrival(day(2)));
    await w.deps.arrivals.recordArrival(arrival(day(2))); // a duplicate counts nothing
    expect(await counter(w).arrivals('orders')).toBe(2);
    expect(await counter(w).arrivals('other')).toBe(0);
    expect(seen.map((c) => c.input)).toEqual([
      { TableName: w.table, Key: { pk: 'DS#orders', sk: 'LEASE' }, ConsistentRead: true },
    ]);
  });

  test('the current lease is read consistently: a run decides on it', async () => {
    const w = await dynamoWorld(dynamo);
    await w.deps.leases.acquire('orders', 'A', w.clock.now(), 60);
    const seen = intercept(() => undefined);
    expect(await w.deps.leases.current('orders')).toMatchObject({ owner: 'A', arrivals: 0 });
    expect(seen.map((c) => c.input)).toEqual([
      { TableName: w.table, Key: { pk: 'DS#orders', sk: 'LEASE' }, ConsistentRead: true },
    ]);
  });
});

describe('the ledger without an injected clock', () => {
  test('stamps arrivals with the real time', async () => {
    const w = await dynamoWorld(dynamo);
    const ledger = new DynamoArrivalLedger(dynamo.doc, w.table);
    const before = Date.now();
    await ledger.recordArrival(arrival(day(1)));
    const after = Date.now();
    const at = Date.parse((await ledger.pendingSummary('orders'))!.firstArrivalAt);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(after);
  });
});
