/** A real DynamoDB API on loopback (dynalite), started and stopped by the tests themselves. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { DynamoArrivalLedger, DynamoRunLeases } from '../../adapters/aws/dynamo-state';
import type { Deps } from '../../domain/ports';
import { fakeWorld, TickingClock } from './fakes';

/** The state table's key schema (pk, sk; on demand), as the stack creates it. */
export function stateTableDefinition(name: string) {
  return {
    TableName: name,
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' as const },
      { AttributeName: 'sk', KeyType: 'RANGE' as const },
    ],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' as const },
      { AttributeName: 'sk', AttributeType: 'S' as const },
    ],
    BillingMode: 'PAY_PER_REQUEST' as const,
  };
}

export interface LocalDynamo {
  doc: DynamoDBDocumentClient;
  client: DynamoDBClient;
  createTable(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startDynamo(): Promise<LocalDynamo> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // Requests dynalite is still answering: stop() waits for them, because dynalite throws (and takes the jest
  // worker down) when its database is closed under a running request.
  let inFlight = 0;
  server.on('request', (_req, res) => {
    inFlight++;
    res.on('close', () => inFlight--);
  });
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
      await client.send(new CreateTableCommand(stateTableDefinition(name)));
      // dynalite answers CREATING at first even with createTableMs 0; use the table once it is ACTIVE.
      for (let i = 0; i < 200; i++) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        if (Table?.TableStatus === 'ACTIVE') return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`table ${name} did not become ACTIVE`);
    },
    /** Call after the test's own work has settled; no new request gets through once the client is destroyed. */
    async stop() {
      client.destroy();
      while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      server.closeAllConnections();
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

/** What a fault does to one DynamoDB call. */
export type Fault =
  /** The call never reaches DynamoDB: the SDK gives up with a throttling error. */
  | 'throttle'
  /** DynamoDB applies the write, then the client times out and never sees the answer. */
  | 'applied-then-timeout'
  /** DynamoDB applies the write, the answer is lost, and the SDK retries the same request: the caller sees the retry's answer. */
  | 'applied-then-retried';

export interface DynamoCall {
  /** GetCommand, PutCommand, UpdateCommand, DeleteCommand, QueryCommand. */
  kind: string;
  input: { Key?: { pk?: string; sk?: string }; Item?: { pk?: string; sk?: string }; [k: string]: unknown };
  /** The item's sort key (or the query's prefix), for matching: LEASE, PENDING#..., CLAIM#..., a sequencer. */
  sk: string;
  /** 1-based count of calls seen so far, this one included. */
  n: number;
}

/**
 * Fault injection on the DynamoDB document client that the adapters share: `rule` sees each call and may
 * answer with a fault. Returns the calls seen and a restore function.
 */
export function injectFaults(dynamo: LocalDynamo, rule: (call: DynamoCall) => Fault | undefined) {
  const original = dynamo.doc.send.bind(dynamo.doc) as (command: unknown) => Promise<unknown>;
  const calls: DynamoCall[] = [];
  const spy = jest.spyOn(dynamo.doc, 'send').mockImplementation((async (command: {
    constructor: { name: string };
    input: DynamoCall['input'];
  }) => {
    const input = command.input;
    const sk = String(
      input.Key?.sk ??
        input.Item?.sk ??
        (input.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[':pending'] ??
        '',
    );
    const seen: DynamoCall = { kind: command.constructor.name, input, sk, n: calls.length + 1 };
    calls.push(seen);
    const fault = rule(seen);
    if (fault === 'throttle')
      throw Object.assign(new Error('Rate of requests exceeds the allowed throughput (injected)'), {
        name: 'ThrottlingException',
        $metadata: {},
      });
    const answer = await original(command);
    if (fault === 'applied-then-timeout')
      throw Object.assign(new Error('socket timed out after the write was applied (injected)'), {
        name: 'TimeoutError',
        $metadata: {},
      });
    if (fault === 'applied-then-retried') return original(command);
    return answer;
  }) as never);
  return { calls, restore: () => spy.mockRestore() };
}
