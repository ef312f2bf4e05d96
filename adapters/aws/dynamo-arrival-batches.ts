/**
 * The batched intake's writes, over the same items as DynamoArrivalLedger (adapters/aws/dynamo-state.ts):
 *   DS#<dataset>       PENDING#<partition>  firstAt, lastAt (epoch ms), count, version  - one update per batch
 *   EV#<object key>    <sequencer>          dataset, ttl                               - one marker per object
 * Single-item conditional writes only (dynalite has no transactions); reads of the markers are consistent
 * BatchGetItem calls (100 keys each, https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html),
 * whose UnprocessedKeys are asked for again.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AwsThrottledError } from '../../domain/errors';
import { eventId, type ArrivalBatchStore, type ObjectEvent } from '../../domain/intake-batch';
import { call, mapAwsError } from './errors';

const EVENT_MARKER_DAYS = 7;
const KEYS_PER_BATCH_GET = 100;
const UNPROCESSED_ATTEMPTS = 5;

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string }).name === 'ConditionalCheckFailedException';

const markerKey = (e: Pick<ObjectEvent, 'objectKey' | 'sequencer'>) => ({ pk: `EV#${e.objectKey}`, sk: e.sequencer });

export class DynamoArrivalBatches implements ArrivalBatchStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async recordedEvents(events: readonly ObjectEvent[]): Promise<Set<string>> {
    const seen = new Set<string>();
    for (let i = 0; i < events.length; i += KEYS_PER_BATCH_GET) {
      let keys: Array<Record<string, unknown>> = events.slice(i, i + KEYS_PER_BATCH_GET).map(markerKey);
      for (let attempt = 1; keys.length > 0; attempt++) {
        if (attempt > UNPROCESSED_ATTEMPTS)
          throw new AwsThrottledError(
            `DynamoDB BatchGetItem: ${keys.length} keys still unprocessed after ${UNPROCESSED_ATTEMPTS} attempts`,
          );
        const page = await call('DynamoDB BatchGetItem', () =>
          this.doc.send(
            new BatchGetCommand({
              RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'pk, sk' } },
            }),
          ),
        );
        for (const item of page.Responses?.[this.table] ?? [])
          seen.add(eventId({ objectKey: String(item.pk).slice('EV#'.length), sequencer: String(item.sk) }));
        keys = (page.UnprocessedKeys?.[this.table]?.Keys ?? []) as Array<Record<string, unknown>>;
      }
    }
    return seen;
  }

  async addPending(dataset: string, partitionKey: string, count: number, at: Date): Promise<void> {
    await call('DynamoDB UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `DS#${dataset}`, sk: `PENDING#${partitionKey}` },
          // The version bump makes a concurrent claim's versioned delete fail and re-read, as for one arrival.
          UpdateExpression: 'SET firstAt = if_not_exists(firstAt, :at), lastAt = :at ADD #count :n, version :one',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':at': at.getTime(), ':n': count, ':one': 1 },
        }),
      ),
    );
  }

  async markRecorded(event: ObjectEvent, at: Date): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...markerKey(event),
            dataset: event.dataset,
            ttl: Math.floor(at.getTime() / 1000) + EVENT_MARKER_DAYS * 86400,
          },
          // Two deliveries of one event racing each other: exactly one of them is the original.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw mapAwsError(error, 'DynamoDB PutItem');
    }
  }
}
