/** A real DynamoDB API on loopback (dynalite), started and stopped by the tests themselves. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { DynamoArrivalLedger, DynamoRunLeases } from '../../adapters/aws/dynamo-state';
import type { Deps } from '../../domain/ports';
import { fakeWorld, TickingClock } from './fakes';

export interface LocalDynamo {
  doc: DynamoDBDocumentClient;
  client: DynamoDBClient;
  createTable(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startDynamo(): Promise<LocalDynamo> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return {
    client,
    doc: DynamoDBDocumentClient.from(client),
    async createTable(name: string) {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      // dynalite answers CREATING at first even with createTableMs 0; use the table once it is ACTIVE.
      for (let i = 0; i < 200; i++) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        if (Table?.TableStatus === 'ACTIVE') return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`table ${name} did not become ACTIVE`);
    },
    async stop() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let tables = 0;

/** A fake world whose debounce ledger and run lease live in a fresh dynalite table; the clock moves only when told. */
export async function dynamoWorld(dynamo: LocalDynamo, prefix = 'state') {
  const table = `${prefix}-${++tables}`;
  await dynamo.createTable(table);
  const world = fakeWorld();
  const clock = new TickingClock(Date.parse('2024-03-01T10:00:00Z'), 0);
  const deps: Deps = {
    ...world.deps,
    clock,
    arrivals: new DynamoArrivalLedger(dynamo.doc, table, () => clock.now()),
    leases: new DynamoRunLeases(dynamo.doc, table),
  };
  return { ...world, deps, clock, table };
}
