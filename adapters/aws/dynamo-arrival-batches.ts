/**
 * The batched intake's writes, over the same items as DynamoArrivalLedger (adapters/aws/dynamo-state.ts):
 *   DS#<dataset>       PENDING#<partition>  firstAt, lastAt (epoch ms), count, version  - one update per chunk
 *   DS#<dataset>       LEASE                arrivals (counter)                         - one bump per chunk
 *   EV#<object key>    <sequencer>          dataset, partition, ttl                    - one marker per object
 * One TransactWriteItems per chunk of at most 98 events of one partition, all or nothing. A marker whose condition
 * fails (the event was recorded by another delivery) cancels the transaction with a reason per action
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html, Errors:
 * TransactionCanceledException, CancellationReasons in request order); those events are duplicates, and the
 * transaction is made again without them. Reads of the markers are consistent BatchGetItem calls (100 keys each,
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html), whose UnprocessedKeys
 * are asked for again.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AwsThrottledError } from '../../domain/common';
import { eventId, RECORD_CHUNK, type ArrivalBatchStore, type ObjectEvent } from '../../domain/intake';
import { bumpArrivals, cancellationCodes, openPending, putMarker, transact } from './dynamo-state';
import { call, mapAwsError } from './errors';

const KEYS_PER_BATCH_GET = 100;
const UNPROCESSED_ATTEMPTS = 5;

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

  async recordEvents(
    dataset: string,
    partitionKey: string,
    events: readonly ObjectEvent[],
    at: Date,
  ): Promise<{ recorded: ObjectEvent[]; duplicates: ObjectEvent[] }> {
    if (events.length > RECORD_CHUNK) throw new Error(`recordEvents takes at most ${RECORD_CHUNK} events`);
    let left = [...events];
    const duplicates: ObjectEvent[] = [];
    // Each round either commits or finds at least one more duplicate, so it ends within events.length + 1 rounds.
    while (left.length > 0) {
      try {
        await transact(this.doc, [
          ...left.map((e) => putMarker(this.table, e, at.getTime())),
          openPending(this.table, dataset, partitionKey, at.getTime(), left.length),
          bumpArrivals(this.table, dataset),
        ]);
        return { recorded: left, duplicates };
      } catch (error) {
        const codes = cancellationCodes(error);
        const seen = left.filter((_, i) => codes?.[i] === 'ConditionalCheckFailed');
        if (seen.length === 0) throw mapAwsError(error, 'DynamoDB TransactWriteItems');
        duplicates.push(...seen);
        left = left.filter((_, i) => codes?.[i] !== 'ConditionalCheckFailed');
      }
    }
    return { recorded: [], duplicates };
  }
}
