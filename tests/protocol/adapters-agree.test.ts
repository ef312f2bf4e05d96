/**
 * The in-memory DynamoDB (adapters/memory/dynamo.ts), which the protocol checker and the local runtime run on,
 * answers like moto's DynamoDB (an independent implementation, tests/support/moto.ts): the same script of calls,
 * the protocol's own expressions and the edge cases it relies on (conditions on missing attributes, sets that
 * empty, transactions cancelled with a reason per action in order, no two actions on one item), with the same
 * items, answers and error names. Where moto and DynamoDB's documentation part ways (ClientRequestToken), the
 * documented behaviour is tested on the in-memory store alone (last test; docs/protocol.md lists the cases).
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { MemoryDynamo } from '../../adapters/memory/dynamo';
import { startDynamo, type LocalDynamo } from '../support/dynamo';

let moto: LocalDynamo;
beforeAll(async () => {
  moto = await startDynamo();
  await moto.createTable('agree');
}, 120_000);
afterAll(async () => {
  await moto.stop();
});

const T = 'agree';
const lease = { pk: 'DS#d', sk: 'LEASE' };
const pending = (p: string) => ({ pk: 'DS#d', sk: `PENDING#${p}` });
const claim = { pk: 'DS#d', sk: 'CLAIM#run' };

/** The script: every command shape the adapters send, with the edge cases the protocol relies on. */
const script: Array<{ constructor: { name: string }; input: object }> = [
  new PutCommand({
    TableName: T,
    Item: { pk: 'EV#k', sk: '01', dataset: 'd' },
    ConditionExpression: 'attribute_not_exists(pk)',
  }),
  new PutCommand({
    TableName: T,
    Item: { pk: 'EV#k', sk: '01', dataset: 'd' },
    ConditionExpression: 'attribute_not_exists(pk)',
  }),
  new UpdateCommand({
    TableName: T,
    Key: lease,
    UpdateExpression: 'ADD arrivals :one',
    ExpressionAttributeValues: { ':one': 1 },
  }),
  new UpdateCommand({
    TableName: T,
    Key: lease,
    UpdateExpression: 'SET #owner = :owner, expiresAt = :exp, arrivals = if_not_exists(arrivals, :zero), starting = :s',
    ConditionExpression: 'attribute_not_exists(#owner) OR #owner = :owner OR expiresAt < :now',
    ExpressionAttributeNames: { '#owner': 'owner' },
    ExpressionAttributeValues: {
      ':owner': 'a',
      ':exp': 100,
      ':zero': 0,
      ':now': 50,
      ':s': { name: 'n', input: { dataset: 'd' } },
    },
    ReturnValues: 'ALL_NEW',
  }),
  new UpdateCommand({
    TableName: T,
    Key: lease,
    UpdateExpression: 'SET #owner = :owner, expiresAt = :exp REMOVE starting',
    ConditionExpression: 'attribute_not_exists(#owner) OR #owner = :owner OR expiresAt < :now',
    ExpressionAttributeNames: { '#owner': 'owner' },
    ExpressionAttributeValues: { ':owner': 'b', ':exp': 200, ':now': 60 },
  }),
  new UpdateCommand({
    TableName: T,
    Key: lease,
    UpdateExpression: 'REMOVE #owner, expiresAt, starting',
    ConditionExpression: '#owner = :owner AND expiresAt = :exp AND arrivals = :n',
    ExpressionAttributeNames: { '#owner': 'owner' },
    ExpressionAttributeValues: { ':owner': 'a', ':exp': 100, ':n': 2 },
  }),
  new TransactWriteCommand({
    TransactItems: [
      {
        Put: {
          TableName: T,
          Item: { pk: 'EV#k', sk: '02', dataset: 'd' },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Update: {
          TableName: T,
          Key: pending('p1'),
          UpdateExpression: 'SET firstAt = if_not_exists(firstAt, :at), lastAt = :at ADD #count :n, version :one',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':at': 10, ':n': 2, ':one': 1 },
        },
      },
      {
        Update: {
          TableName: T,
          Key: lease,
          UpdateExpression: 'ADD arrivals :one',
          ExpressionAttributeValues: { ':one': 1 },
        },
      },
    ],
  }),
  // A duplicate marker cancels everything: reasons in request order.
  new TransactWriteCommand({
    TransactItems: [
      { Put: { TableName: T, Item: { pk: 'EV#k', sk: '03' }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Put: { TableName: T, Item: { pk: 'EV#k', sk: '01' }, ConditionExpression: 'attribute_not_exists(pk)' } },
      {
        Update: {
          TableName: T,
          Key: lease,
          UpdateExpression: 'ADD arrivals :one',
          ExpressionAttributeValues: { ':one': 1 },
        },
      },
    ],
  }),
  new UpdateCommand({
    TableName: T,
    Key: lease,
    UpdateExpression: 'SET #owner = :owner, expiresAt = :exp',
    ExpressionAttributeNames: { '#owner': 'owner' },
    ExpressionAttributeValues: { ':owner': 'run', ':exp': 300 },
  }),
  // The claim: lease check + claim update + versioned delete; then a stale version cancels it.
  new TransactWriteCommand({
    TransactItems: [
      {
        ConditionCheck: {
          TableName: T,
          Key: lease,
          ConditionExpression: '#owner = :h',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':h': 'run' },
        },
      },
      {
        Update: {
          TableName: T,
          Key: claim,
          UpdateExpression:
            'ADD #partitions :p SET claimedAt = if_not_exists(claimedAt, :now), firstAt = if_not_exists(firstAt, :first), lastAt = :last',
          ExpressionAttributeNames: { '#partitions': 'partitions' },
          ExpressionAttributeValues: { ':p': new Set(['p1']), ':now': 20, ':first': 10, ':last': 10 },
        },
      },
      {
        Delete: {
          TableName: T,
          Key: pending('p1'),
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': 1 },
        },
      },
    ],
  }),
  new TransactWriteCommand({
    TransactItems: [
      {
        ConditionCheck: {
          TableName: T,
          Key: lease,
          ConditionExpression: '#owner = :h',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':h': 'other' },
        },
      },
      {
        Delete: {
          TableName: T,
          Key: pending('p1'),
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': 7 },
        },
      },
    ],
  }),
  // Two actions on one item: a validation error, not a cancellation.
  new TransactWriteCommand({
    TransactItems: [
      {
        Update: {
          TableName: T,
          Key: lease,
          UpdateExpression: 'ADD arrivals :one',
          ExpressionAttributeValues: { ':one': 1 },
        },
      },
      {
        Update: {
          TableName: T,
          Key: lease,
          UpdateExpression: 'ADD arrivals :one',
          ExpressionAttributeValues: { ':one': 1 },
        },
      },
    ],
  }),
  // Returning: the set loses its last element (the attribute goes), the partition is pending again.
  new TransactWriteCommand({
    TransactItems: [
      {
        Update: {
          TableName: T,
          Key: claim,
          UpdateExpression: 'DELETE #partitions :c',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#partitions': 'partitions' },
          ExpressionAttributeValues: { ':c': new Set(['p1']) },
        },
      },
      {
        Update: {
          TableName: T,
          Key: pending('p1'),
          UpdateExpression:
            'SET firstAt = if_not_exists(firstAt, :first), lastAt = if_not_exists(lastAt, :last) ADD #count :one, version :one',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':first': 10, ':last': 10, ':one': 1 },
        },
      },
    ],
  }),
  new GetCommand({ TableName: T, Key: claim, ConsistentRead: true }),
  new DeleteCommand({ TableName: T, Key: claim }),
  new DeleteCommand({ TableName: T, Key: claim, ConditionExpression: 'attribute_exists(pk)' }),
  new QueryCommand({
    TableName: T,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
    ExpressionAttributeValues: { ':pk': 'DS#d', ':p': 'PENDING#' },
    ConsistentRead: true,
  }),
  new QueryCommand({
    TableName: T,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
    ExpressionAttributeValues: { ':pk': 'EV#k', ':p': '0' },
    ProjectionExpression: 'sk',
    ConsistentRead: true,
  }),
  new GetCommand({ TableName: T, Key: lease, ConsistentRead: true }),
];

/** What a call came to, comparable across implementations. */
async function outcome(doc: { send(c: unknown): Promise<unknown> }, command: unknown) {
  try {
    const out = (await doc.send(command)) as Record<string, unknown>;
    // moto adds an empty ItemCollectionMetrics that DynamoDB sends only when asked (ReturnItemCollectionMetrics).
    const { $metadata: _m, ConsumedCapacity: _c, ItemCollectionMetrics: _i, ...rest } = out;
    return { ok: normal(rest) };
  } catch (error) {
    const e = error as { name?: string; CancellationReasons?: Array<{ Code?: string }> };
    return { error: e.name, reasons: e.CancellationReasons?.map((r) => r.Code ?? 'None') };
  }
}

const normal = (v: unknown): unknown =>
  JSON.parse(
    JSON.stringify(v, (_k, x: unknown) =>
      Object.prototype.toString.call(x) === '[object Set]' ? [...(x as Set<string>)].sort() : x,
    ),
  );

test('the in-memory DynamoDB and moto answer the protocol’s calls alike, item for item', async () => {
  const memory = new MemoryDynamo(() => 0);
  memory.createTable(T);
  const theirs: unknown[] = [];
  const ours: unknown[] = [];
  for (const command of script) {
    theirs.push(await outcome(moto.doc, command));
    ours.push(await outcome(memory.doc as unknown as DynamoDBDocumentClient, command));
  }
  expect(ours).toEqual(theirs);
  // And the same items at the end.
  const scan = async (doc: { send(c: unknown): Promise<unknown> }, pk: string) =>
    normal(
      (
        (await doc.send(
          new QueryCommand({
            TableName: T,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk },
            ConsistentRead: true,
          }),
        )) as { Items: unknown[] }
      ).Items,
    );
  for (const pk of ['DS#d', 'EV#k']) expect(await scan(memory.doc, pk)).toEqual(await scan(moto.doc, pk));
  // Cancellation reasons name the failed action in request order.
  expect(theirs[7]).toEqual({
    error: 'TransactionCanceledException',
    reasons: ['None', 'ConditionalCheckFailed', 'None'],
  });
});

test('documented, not in moto: a ClientRequestToken makes a repeated transaction a no-op for 10 minutes', async () => {
  let now = 0;
  const memory = new MemoryDynamo(() => now);
  memory.createTable(T);
  const bump = (token: string, by = 1) =>
    new TransactWriteCommand({
      ClientRequestToken: token,
      TransactItems: [
        {
          Update: {
            TableName: T,
            Key: lease,
            UpdateExpression: 'ADD arrivals :n',
            ExpressionAttributeValues: { ':n': by },
          },
        },
      ],
    });
  const arrivals = async () =>
    ((await memory.doc.send(new GetCommand({ TableName: T, Key: lease }))) as { Item?: { arrivals?: number } }).Item
      ?.arrivals;
  await memory.doc.send(bump('t1'));
  await memory.doc.send(bump('t1')); // the SDK's retry of an applied call: the same effect as one call
  expect(await arrivals()).toBe(1);
  await expect(memory.doc.send(bump('t1', 2))).rejects.toMatchObject({ name: 'IdempotentParameterMismatchException' });
  now += 10 * 60 * 1000; // after the window, the same token is a new request
  await memory.doc.send(bump('t1'));
  expect(await arrivals()).toBe(2);
});
