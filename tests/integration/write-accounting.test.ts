import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoArrivalLedger } from '../../adapters/aws/dynamo-state';
import { startDynamo, type LocalDynamo } from '../support/dynamo';
import { accountWrites, itemsWritten } from '../support/write-accounting';

let dynamo: LocalDynamo;
let tables = 0;

beforeAll(async () => {
  dynamo = await startDynamo();
});

afterAll(async () => {
  await dynamo.stop();
});

async function freshTable(): Promise<string> {
  const table = `accounting-${++tables}`;
  await dynamo.createTable(table);
  return table;
}

describe('write accounting on the DynamoDB client', () => {
  test('counts write attempts per item and per simulated second, failed conditions included, reads apart', async () => {
    const table = await freshTable();
    let now = Date.parse('2024-03-01T10:00:00Z');
    const accounting = accountWrites(dynamo.client, { now: () => now });
    try {
      const key = { pk: 'DS#orders', sk: 'LEASE' };
      await dynamo.doc.send(new PutCommand({ TableName: table, Item: { ...key, owner: 'a' } }));
      await dynamo.doc.send(
        new UpdateCommand({
          TableName: table,
          Key: key,
          UpdateExpression: 'SET #o = :o',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: { ':o': 'b' },
        }),
      );
      // A conditional write that fails its condition still costs a write.
      await expect(
        dynamo.doc.send(
          new PutCommand({ TableName: table, Item: { ...key }, ConditionExpression: 'attribute_not_exists(pk)' }),
        ),
      ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
      now += 1000;
      await dynamo.doc.send(new DeleteCommand({ TableName: table, Key: key }));
      await dynamo.doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
      expect(accounting.writes).toBe(4);
      expect(accounting.reads).toBe(1);
      expect(accounting.perItem()).toEqual(new Map([[`${table}|pk=S:DS#orders|sk=S:LEASE`, 4]]));
      expect(accounting.hottest()).toEqual({
        item: `${table}|pk=S:DS#orders|sk=S:LEASE`,
        second: Date.parse('2024-03-01T10:00:00Z') / 1000,
        writes: 3,
      });
      expect(() => accounting.check(3)).not.toThrow();
      expect(() => accounting.check(2)).toThrow(
        /item .*sk=S:LEASE took 3 writes in simulated second 2024-03-01T10:00:00\.000Z, above the bound of 2/,
      );
    } finally {
      accounting.detach();
    }
  });

  test('a batch write counts each item; detach stops counting', async () => {
    const table = await freshTable();
    const accounting = accountWrites(dynamo.doc, { now: () => 0 });
    await dynamo.client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [table]: ['a', 'b', 'c'].map((sk) => ({ PutRequest: { Item: { pk: { S: 'p' }, sk: { S: sk } } } })),
        },
      }),
    );
    expect(accounting.writes).toBe(3);
    expect(accounting.hottest()?.writes).toBe(1);
    accounting.detach();
    await dynamo.doc.send(new PutCommand({ TableName: table, Item: { pk: 'p', sk: 'd' } }));
    expect(accounting.writes).toBe(3);
  });

  test('transactions name every written item (the adapters do not use them, dynalite lacks them)', () => {
    const items = itemsWritten('TransactWriteItemsCommand', {
      TransactItems: [
        { Put: { TableName: 't', Item: { pk: { S: 'a' }, sk: { S: '1' } } } },
        { Update: { TableName: 't', Key: { pk: { S: 'b' }, sk: { S: '2' } } } },
        { ConditionCheck: { TableName: 't', Key: { pk: { S: 'c' }, sk: { S: '3' } } } },
      ],
    });
    expect(items).toEqual(['t|pk=S:a|sk=S:1', 't|pk=S:b|sk=S:2']);
  });

  test('finds the hot key of the per-object intake: one PENDING item written once per object', async () => {
    // Issue 12: every arrival updates its partition's PENDING# item. 150 objects into one partition within one
    // simulated second put 150 writes on that item, which the bound of 100 per item-second refuses.
    const table = await freshTable();
    let now = Date.parse('2024-03-01T10:00:00Z');
    const ledger = new DynamoArrivalLedger(dynamo.doc, table, () => new Date(now));
    const accounting = accountWrites(dynamo.doc, { now: () => now });
    try {
      for (let i = 0; i < 150; i++) {
        now = Date.parse('2024-03-01T10:00:00Z') + i; // 150 objects within one second
        await ledger.recordArrival({
          dataset: 'orders',
          partitionKey: 'year=2024/month=01/day=05',
          objectKey: `orders/year=2024/month=01/day=05/part-${i}.csv`,
          sequencer: `seq${i}`,
          size: 10,
          arrivedAt: new Date(now).toISOString(),
        });
      }
      const hot = accounting.hottest();
      expect(hot?.item).toContain('PENDING#year=2024/month=01/day=05');
      expect(hot?.writes).toBeGreaterThanOrEqual(150);
      expect(() => accounting.check(100)).toThrow(/PENDING#year=2024\/month=01\/day=05 took \d+ writes/);
      // At least one write per object for the object's own event marker, plus the PENDING update.
      expect(accounting.writes).toBeGreaterThanOrEqual(300);
    } finally {
      accounting.detach();
    }
  }, 60_000);
});
