/**
 * Write accounting for the DynamoDB tests: a middleware on the client (a DynamoDBDocumentClient shares its
 * client's middleware stack, so either can be given) that counts every write attempt per item and per second of
 * *simulated* time, and reports the hottest item. DynamoDB serves about 1,000 write units per second per
 * partition (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html), so a
 * hot item shows up here as many writes to one key in one simulated second.
 *
 * It counts attempts, not successes: a conditional write that fails its condition still consumes write capacity.
 * It never throws from inside the middleware: the code under test could catch and retry that error (as the ASL's
 * Catch swallowed an assertion once); `check()` fails the test afterwards, naming the item and the second.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);
const READ_COMMANDS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand']);

type AttributeValue = Record<string, unknown>;
type Marshalled = Record<string, AttributeValue>;

export interface HotItem {
  item: string;
  second: number;
  writes: number;
}

export interface WriteAccounting {
  /** Every write attempt so far. */
  readonly writes: number;
  /** Every read request so far (GetItem, Query, Scan, BatchGetItem). */
  readonly reads: number;
  /** Write attempts per item (table|key). */
  perItem(): Map<string, number>;
  /** The item and simulated second with the most writes, or null before any write. */
  hottest(): HotItem | null;
  /** Throws unless every item had at most `bound` writes in every simulated second. */
  check(bound: number): void;
  reset(): void;
  /** Removes the middleware. */
  detach(): void;
}

export interface AccountingOptions {
  /** Simulated clock, epoch ms; writes are bucketed by Math.floor(now() / 1000). */
  now: () => number;
  /** The table's key attributes (default pk, sk): they name the item. */
  keyAttributes?: string[];
}

const MIDDLEWARE_NAME = 'sluiceWriteAccounting';

function scalar(value: AttributeValue | string | number | undefined): string {
  if (value === undefined || value === '') return '';
  // The in-memory DynamoDB's document client sees plain values (the SDK's middleware sees marshalled ones).
  if (typeof value !== 'object') return `${typeof value === 'number' ? 'N' : 'S'}:${String(value)}`;
  const [type, v] = Object.entries(value)[0] ?? ['', ''];
  return `${type}:${String(v)}`;
}

function itemId(table: string, key: Marshalled | undefined, keyAttributes: string[]): string {
  return `${table}|${keyAttributes.map((a) => `${a}=${scalar(key?.[a])}`).join('|')}`;
}

/** The items one request writes, as table|key ids (Batch/Transact writes count each item). */
export function itemsWritten(command: string, input: Record<string, unknown>, keyAttributes = ['pk', 'sk']): string[] {
  if (WRITE_COMMANDS.has(command)) {
    const key = (input.Key ?? input.Item) as Marshalled | undefined;
    return [itemId(String(input.TableName), key, keyAttributes)];
  }
  if (command === 'BatchWriteItemCommand') {
    const requests = (input.RequestItems ?? {}) as Record<
      string,
      Array<{ PutRequest?: { Item: Marshalled }; DeleteRequest?: { Key: Marshalled } }>
    >;
    return Object.entries(requests).flatMap(([table, list]) =>
      list.map((r) => itemId(table, r.PutRequest?.Item ?? r.DeleteRequest?.Key, keyAttributes)),
    );
  }
  if (command === 'TransactWriteItemsCommand') {
    const items = (input.TransactItems ?? []) as Array<
      Record<string, { TableName: string; Key?: Marshalled; Item?: Marshalled } | undefined>
    >;
    return items.flatMap((t) =>
      ['Put', 'Update', 'Delete']
        .map((kind) => t[kind])
        .filter((op): op is { TableName: string; Key?: Marshalled; Item?: Marshalled } => op !== undefined)
        .map((op) => itemId(op.TableName, op.Key ?? op.Item, keyAttributes)),
    );
  }
  return [];
}

export function accountWrites(
  client: DynamoDBClient | DynamoDBDocumentClient,
  options: AccountingOptions,
): WriteAccounting {
  const keyAttributes = options.keyAttributes ?? ['pk', 'sk'];
  const perItem = new Map<string, number>();
  const perItemSecond = new Map<string, number>();
  let writes = 0;
  let reads = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName ?? '');
      const input = (args as { input: Record<string, unknown> }).input;
      if (READ_COMMANDS.has(command)) reads++;
      const second = Math.floor(options.now() / 1000);
      for (const item of itemsWritten(command, input, keyAttributes)) {
        writes++;
        perItem.set(item, (perItem.get(item) ?? 0) + 1);
        const bucket = `${second}\n${item}`;
        perItemSecond.set(bucket, (perItemSecond.get(bucket) ?? 0) + 1);
      }
      return next(args);
    },
    // After the retry middleware: every attempt that reaches DynamoDB is counted, SDK retries included.
    { step: 'finalizeRequest', priority: 'low', name: MIDDLEWARE_NAME, override: true },
  );
  const hottest = (): HotItem | null => {
    let top: HotItem | null = null;
    for (const [bucket, count] of perItemSecond) {
      if (top && count <= top.writes) continue;
      const [second = '0', item = ''] = bucket.split('\n');
      top = { item, second: Number(second), writes: count };
    }
    return top;
  };
  return {
    get writes() {
      return writes;
    },
    get reads() {
      return reads;
    },
    perItem: () => new Map(perItem),
    hottest,
    check(bound: number) {
      const top = hottest();
      if (top && top.writes > bound)
        throw new Error(
          `item ${top.item} took ${top.writes} writes in simulated second ${new Date(top.second * 1000).toISOString()}, above the bound of ${bound}`,
        );
    },
    reset() {
      perItem.clear();
      perItemSecond.clear();
      writes = 0;
      reads = 0;
    },
    detach() {
      client.middlewareStack.remove(MIDDLEWARE_NAME);
    },
  };
}
