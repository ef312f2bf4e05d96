/**
 * A real DynamoDB API on loopback: moto's DynamoDB (tests/support/moto.ts), with transactions, started and stopped
 * by the tests themselves. dynalite is no longer used here: it has no TransactWriteItems, which the state protocol
 * is built on (docs/protocol.md).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoArrivalLedger, DynamoRunLeases } from '../../adapters/aws/dynamo-state';
import type { Deps } from '../../domain/deps';
import { fakeWorld, TickingClock } from './fakes';
import { startMoto } from './moto';

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
  endpoint: string;
  createTable(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startDynamo(): Promise<LocalDynamo> {
  const moto = await startMoto();
  const client = new DynamoDBClient({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return {
    client,
    endpoint: moto.endpoint,
    doc: DynamoDBDocumentClient.from(client),
    async createTable(name: string) {
      await client.send(new CreateTableCommand(stateTableDefinition(name))); // moto: ACTIVE at once
    },
    async stop() {
      client.destroy();
      await moto.stop();
    },
  };
}

let tables = 0;

/** A fake world whose debounce ledger and run lease live in a fresh moto table; the clock moves only when told. */
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
  /** GetCommand, PutCommand, UpdateCommand, DeleteCommand, QueryCommand, TransactWriteCommand. */
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
