/** Reading a whole item collection: DynamoDB pages Query results at 1 MB (LastEvaluatedKey), so follow every page. */
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { call } from './errors';

/** Every item of one key-condition query, across pages. Strongly consistent: callers decide on what they read. */
export async function queryAll<T>(
  doc: DynamoDBDocumentClient,
  query: Omit<QueryCommandInput, 'ExclusiveStartKey' | 'ConsistentRead'>,
): Promise<T[]> {
  const items: T[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await call('DynamoDB Query', () =>
      doc.send(new QueryCommand({ ...query, ConsistentRead: true, ExclusiveStartKey: start })),
    );
    items.push(...((page.Items ?? []) as T[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
