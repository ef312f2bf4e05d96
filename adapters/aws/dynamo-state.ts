/**
 * The DynamoDB side of the debounce port and the run lease, in one table (pk, sk, ttl).
 *
 *   DS#<dataset>  LEASE                  owner, expiresAt (epoch ms), ttl   - the run lease
 *   DS#<dataset>  PENDING#<partition>    firstAt, lastAt (epoch ms), count, version - a pending partition
 *   DS#<dataset>  CLAIM#<executionArn>   partitions, ttl                    - what a live run has claimed
 *   EV#<bucket>/<key>  <sequencer>       ttl                               - "this object event was recorded"
 *
 * Only single-item conditional writes (no transactions), ordered so a crash between two writes loses nothing:
 * recordArrival writes the pending partition first and the event marker second. A retry after a crash between
 * them finds no marker and records again (harmless: the partition is pending either way). A duplicate that
 * comes after the marker is skipped, so it cannot re-open a partition that a run has already claimed.
 * claimPending deletes each pending item on the version it read; an arrival that bumps the version in between
 * makes the delete fail, and the item is read again: what was recorded before the delete is in this claim.
 * The claim record is written before the pending items are deleted and rewritten with what was claimed, so
 * a run that dies after claiming (aborted, timed out) can have its partitions put back (returnClaim).
 * The lease's expiry is checked inside the condition: DynamoDB's TTL deletes late and is only housekeeping.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Arrival, ArrivalLedger, Lease, PendingSummary, RunLeaseStore } from '../../domain/ports';
import { call, mapAwsError } from './errors';

const EVENT_MARKER_DAYS = 7;
const MAX_CLAIM_ATTEMPTS = 5;

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string }).name === 'ConditionalCheckFailedException';

const datasetPk = (dataset: string): string => `DS#${dataset}`;
const epochSeconds = (ms: number): number => Math.floor(ms / 1000);

interface PendingItem {
  pk: string;
  sk: string;
  firstAt: number;
  lastAt: number;
  version: number;
}

export class DynamoArrivalLedger implements ArrivalLedger {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Opens or refreshes a pending partition; the version bump makes a concurrent claim re-read it. */
  private async markPending(dataset: string, partition: string, at: number): Promise<void> {
    await call('DynamoDB UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: datasetPk(dataset), sk: `PENDING#${partition}` },
          UpdateExpression: 'SET firstAt = if_not_exists(firstAt, :at), lastAt = :at ADD #count :one, version :one',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':at': at, ':one': 1 },
        }),
      ),
    );
  }

  async recordArrival(arrival: Arrival): Promise<{ duplicate: boolean }> {
    const marker = { pk: `EV#${arrival.objectKey}`, sk: arrival.sequencer };
    const seen = await call('DynamoDB GetItem', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: marker, ConsistentRead: true })),
    );
    if (seen.Item) return { duplicate: true };
    const at = this.now().getTime();
    await this.markPending(arrival.dataset, arrival.partitionKey, at);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...marker, dataset: arrival.dataset, ttl: epochSeconds(at) + EVENT_MARKER_DAYS * 86400 },
          // Two deliveries of one event racing each other: exactly one of them is the original.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return { duplicate: true };
      throw mapAwsError(error, 'DynamoDB PutItem');
    }
    return { duplicate: false };
  }

  private async pendingItems(dataset: string): Promise<PendingItem[]> {
    const items: PendingItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await call('DynamoDB Query', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :pending)',
            ExpressionAttributeValues: { ':pk': datasetPk(dataset), ':pending': 'PENDING#' },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      items.push(...((page.Items ?? []) as PendingItem[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async pendingSummary(dataset: string): Promise<PendingSummary | null> {
    const items = await this.pendingItems(dataset);
    if (items.length === 0) return null;
    return {
      partitions: items.length,
      firstArrivalAt: new Date(Math.min(...items.map((i) => i.firstAt))).toISOString(),
      lastArrivalAt: new Date(Math.max(...items.map((i) => i.lastAt))).toISOString(),
    };
  }

  private claimKey(dataset: string, executionArn: string) {
    return { pk: datasetPk(dataset), sk: `CLAIM#${executionArn}` };
  }

  private async writeClaim(dataset: string, executionArn: string, partitions: string[]): Promise<void> {
    await call('DynamoDB PutItem', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...this.claimKey(dataset, executionArn),
            partitions,
            ttl: epochSeconds(this.now().getTime()) + 30 * 86400,
          },
        }),
      ),
    );
  }

  async claimPending(dataset: string, executionArn: string): Promise<string[]> {
    const items = await this.pendingItems(dataset);
    if (items.length === 0) return [];
    await this.writeClaim(
      dataset,
      executionArn,
      items.map((i) => i.sk.slice('PENDING#'.length)),
    );
    const claimed: string[] = [];
    for (const item of items) {
      let version = item.version;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.doc.send(
            new DeleteCommand({
              TableName: this.table,
              Key: { pk: item.pk, sk: item.sk },
              ConditionExpression: 'version = :v',
              ExpressionAttributeValues: { ':v': version },
            }),
          );
          claimed.push(item.sk.slice('PENDING#'.length));
          break;
        } catch (error) {
          if (!isConditionFailure(error)) throw mapAwsError(error, 'DynamoDB DeleteItem');
          const fresh = await this.doc.send(
            new GetCommand({ TableName: this.table, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true }),
          );
          if (!fresh.Item) break; // claimed by someone else: not ours to process
          if (attempt >= MAX_CLAIM_ATTEMPTS) {
            // Arrivals keep landing on this partition: leave it pending for the follow-up run rather than spin.
            break;
          }
          version = (fresh.Item as PendingItem).version;
        }
      }
    }
    await this.writeClaim(dataset, executionArn, claimed);
    return claimed;
  }

  async returnClaim(dataset: string, executionArn: string): Promise<string[]> {
    const { Item } = await call('DynamoDB GetItem', () =>
      this.doc.send(
        new GetCommand({ TableName: this.table, Key: this.claimKey(dataset, executionArn), ConsistentRead: true }),
      ),
    );
    const partitions = (Item?.partitions ?? []) as string[];
    const at = this.now().getTime();
    for (const partition of partitions) await this.markPending(dataset, partition, at);
    await this.forgetClaim(dataset, executionArn);
    return partitions;
  }

  async forgetClaim(dataset: string, executionArn: string): Promise<void> {
    await call('DynamoDB DeleteItem', () =>
      this.doc.send(new DeleteCommand({ TableName: this.table, Key: this.claimKey(dataset, executionArn) })),
    );
  }
}

export class DynamoRunLeases implements RunLeaseStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async acquire(dataset: string, owner: string, now: Date, leaseSeconds: number): Promise<boolean> {
    const expiresAt = now.getTime() + leaseSeconds * 1000;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: datasetPk(dataset), sk: 'LEASE' },
          UpdateExpression: 'SET #owner = :owner, expiresAt = :exp, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(pk) OR #owner = :owner OR expiresAt < :now',
          ExpressionAttributeNames: { '#owner': 'owner', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':owner': owner,
            ':exp': expiresAt,
            ':now': now.getTime(),
            ':ttl': epochSeconds(expiresAt) + 86400,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw mapAwsError(error, 'DynamoDB UpdateItem');
    }
  }

  async release(dataset: string, owner: string): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: datasetPk(dataset), sk: 'LEASE' },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw mapAwsError(error, 'DynamoDB DeleteItem');
    }
  }

  async current(dataset: string): Promise<Lease | null> {
    const { Item } = await call('DynamoDB GetItem', () =>
      this.doc.send(
        new GetCommand({ TableName: this.table, Key: { pk: datasetPk(dataset), sk: 'LEASE' }, ConsistentRead: true }),
      ),
    );
    if (!Item) return null;
    return { owner: String(Item.owner), expiresAt: new Date(Number(Item.expiresAt)).toISOString() };
  }
}
