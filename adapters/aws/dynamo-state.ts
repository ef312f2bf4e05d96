/**
 * The DynamoDB side of the debounce port and the run lease, in one table (pk, sk, ttl).
 *
 *   DS#<dataset>  LEASE                  owner, expiresAt (epoch ms), ttl   - the run lease
 *   DS#<dataset>  PENDING#<partition>    firstAt, lastAt (epoch ms), count, version - a pending partition
 *   DS#<dataset>  CLAIM#<executionArn>   partitions (string set), claimedAt, firstAt, lastAt - a run's claim
 *   EV#<bucket>/<key>  <sequencer>       ttl                               - "this object event was recorded"
 *
 * Only single-item conditional writes (no transactions), ordered so a crash, a timeout after an applied write,
 * or an SDK retry of an applied write between any two calls loses nothing:
 * - recordArrival writes the pending partition first and the event marker second. A retry after a crash between
 *   them finds no marker and records again (harmless: the partition is pending either way). A duplicate that
 *   comes after the marker is skipped, so it cannot re-open a partition that a run has already claimed.
 * - claimPending adds the partitions to the claim record (a set: merging, so retries are idempotent) before it
 *   deletes each pending item on the version it read. An arrival that bumps the version in between makes the
 *   delete fail and the item is read again; an item already gone was deleted by us (only the lease holder
 *   claims). So every partition is pending, or claimed, or both, at every point.
 * - returnClaim re-opens the claimed partitions, then forgets the claim.
 * Claims are found by their sort-key prefix, never through the lease item, and have no TTL.
 * The lease's expiry is checked inside the condition: DynamoDB's TTL deletes late and is only housekeeping.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { selectClaimable, type ClaimLimits } from '../../domain/claim-limits';
import type { Arrival, ArrivalLedger, Lease, PendingSummary, RunLeaseStore } from '../../domain/ports';
import { queryAll } from './dynamo-query';
import { call, mapAwsError } from './errors';

const EVENT_MARKER_DAYS = 7;
const MAX_CLAIM_ATTEMPTS = 5;
const CLAIM_PREFIX = 'CLAIM#';

/**
 * By name, as the SDK's guide does (https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/the-response-object.html,
 * "Access error information"): every service exception carries its name, also across two copies of the SDK.
 */
const isConditionFailure = (error: unknown): boolean =>
  (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

const datasetPk = (dataset: string): string => `DS#${dataset}`;
const epochSeconds = (ms: number): number => Math.floor(ms / 1000);

interface PendingItem {
  pk: string;
  sk: string;
  firstAt: number;
  lastAt: number;
  version: number;
}

interface ClaimItem {
  /** A string set; absent once its last partition was removed (DynamoDB has no empty sets). */
  partitions?: Set<string>;
  claimedAt?: number;
  firstAt?: number;
  lastAt?: number;
}

const partitionOf = (item: PendingItem): string => item.sk.slice('PENDING#'.length);
const claimedPartitions = (claim: ClaimItem | undefined): string[] => [...(claim?.partitions ?? [])].sort();

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
    return queryAll<PendingItem>(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :pending)',
      ExpressionAttributeValues: { ':pk': datasetPk(dataset), ':pending': 'PENDING#' },
    });
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
    return { pk: datasetPk(dataset), sk: `${CLAIM_PREFIX}${executionArn}` };
  }

  private async readClaim(dataset: string, executionArn: string): Promise<ClaimItem | undefined> {
    const { Item } = await call('DynamoDB GetItem', () =>
      this.doc.send(
        new GetCommand({ TableName: this.table, Key: this.claimKey(dataset, executionArn), ConsistentRead: true }),
      ),
    );
    return Item as ClaimItem | undefined;
  }

  /**
   * Adds partitions to the execution's claim (a string set: adding twice is adding once) before their pending
   * items are deleted, so a partition is always pending, or in a claim, or both. No TTL: a claim lives until
   * its owner forgets it or a later lease holder returns it.
   */
  private async addToClaim(dataset: string, executionArn: string, items: PendingItem[]): Promise<ClaimItem> {
    const { Attributes } = await call('DynamoDB UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.claimKey(dataset, executionArn),
          UpdateExpression:
            'ADD #partitions :partitions SET claimedAt = if_not_exists(claimedAt, :now), ' +
            'firstAt = if_not_exists(firstAt, :first), lastAt = :last',
          ExpressionAttributeNames: { '#partitions': 'partitions' },
          ExpressionAttributeValues: {
            ':partitions': new Set(items.map(partitionOf)),
            ':now': this.now().getTime(),
            ':first': Math.min(...items.map((i) => i.firstAt)),
            ':last': Math.max(...items.map((i) => i.lastAt)),
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return Attributes as ClaimItem;
  }

  private async removeFromClaim(dataset: string, executionArn: string, partitions: string[]): Promise<void> {
    await call('DynamoDB UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.claimKey(dataset, executionArn),
          UpdateExpression: 'DELETE #partitions :partitions',
          ExpressionAttributeNames: { '#partitions': 'partitions' },
          ExpressionAttributeValues: { ':partitions': new Set(partitions) },
        }),
      ),
    );
  }

  /**
   * Deletes one pending item on the version it was read at. True when the partition is now in the claim: the
   * delete applied, or the item is gone although our delete "failed" (an SDK retry of our own applied delete
   * answers ConditionalCheckFailed; only the lease holder claims, so nobody else deleted it). False when
   * arrivals keep landing on it: it stays pending for the follow-up run rather than spin.
   */
  private async takePending(item: PendingItem): Promise<boolean> {
    let version = item.version;
    for (let attempt = 1; attempt <= MAX_CLAIM_ATTEMPTS; attempt++) {
      try {
        await this.doc.send(
          new DeleteCommand({
            TableName: this.table,
            Key: { pk: item.pk, sk: item.sk },
            ConditionExpression: 'version = :v',
            ExpressionAttributeValues: { ':v': version },
          }),
        );
        return true;
      } catch (error) {
        if (!isConditionFailure(error)) throw mapAwsError(error, 'DynamoDB DeleteItem');
      }
      const fresh = await call('DynamoDB GetItem', () =>
        this.doc.send(
          new GetCommand({ TableName: this.table, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true }),
        ),
      );
      if (!fresh.Item) return true;
      version = (fresh.Item as PendingItem).version;
    }
    return false;
  }

  async claimPending(dataset: string, executionArn: string, _now?: Date, limits?: ClaimLimits): Promise<string[]> {
    const pending = await this.pendingItems(dataset);
    const items = limits ? await this.claimable(dataset, executionArn, pending, limits) : pending;
    if (items.length === 0) return claimedPartitions(await this.readClaim(dataset, executionArn));
    const claim = await this.addToClaim(dataset, executionArn, items);
    const left: string[] = [];
    for (const item of items) if (!(await this.takePending(item))) left.push(partitionOf(item));
    // Still pending: the next run processes them; our claim must not say otherwise.
    if (left.length > 0) await this.removeFromClaim(dataset, executionArn, left);
    return claimedPartitions(claim).filter((p) => !left.includes(p));
  }

  /**
   * Under the claim limits (issue 12): a first claim takes the oldest pending partitions within them. A retried
   * claim, whose record already holds partitions, only finishes taking its own (the first attempt chose them
   * within the limits); anything newer waits for the follow-up run.
   */
  private async claimable(
    dataset: string,
    executionArn: string,
    pending: PendingItem[],
    limits: ClaimLimits,
  ): Promise<PendingItem[]> {
    const held = new Set(claimedPartitions(await this.readClaim(dataset, executionArn)));
    if (held.size > 0) return pending.filter((item) => held.has(partitionOf(item)));
    const candidates = pending.map((item) => ({ key: partitionOf(item), firstAt: item.firstAt, item }));
    return selectClaimable(candidates, limits).map((c) => c.item);
  }

  async claimOwners(dataset: string): Promise<string[]> {
    const claims = await queryAll<{ sk: string }>(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :claim)',
      ExpressionAttributeValues: { ':pk': datasetPk(dataset), ':claim': CLAIM_PREFIX },
      ProjectionExpression: 'sk',
    });
    return claims.map((i) => String(i.sk).slice(CLAIM_PREFIX.length));
  }

  /** Re-opens a returned partition with the claimed arrivals' times (a newer arrival keeps its own). */
  private async reopen(dataset: string, partition: string, claim: ClaimItem): Promise<void> {
    const at = this.now().getTime();
    await call('DynamoDB UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: datasetPk(dataset), sk: `PENDING#${partition}` },
          UpdateExpression:
            'SET firstAt = if_not_exists(firstAt, :first), lastAt = if_not_exists(lastAt, :last) ' +
            'ADD #count :one, version :one',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':first': claim.firstAt ?? at, ':last': claim.lastAt ?? at, ':one': 1 },
        }),
      ),
    );
  }

  async returnClaim(dataset: string, executionArn: string, keep: readonly string[] = []): Promise<string[]> {
    const claim = await this.readClaim(dataset, executionArn);
    if (!claim) return [];
    const back = claimedPartitions(claim).filter((p) => !keep.includes(p));
    // Re-open first, forget second: a crash in between re-opens again on retry (the partition is pending
    // either way, and only the lease holder returns claims, so no run has claimed it meanwhile).
    for (const partition of back) await this.reopen(dataset, partition, claim);
    await this.forgetClaim(dataset, executionArn);
    return back;
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

  async acquire(dataset: string, owner: string, now: Date, leaseSeconds: number, replacing?: string): Promise<boolean> {
    const expiresAt = now.getTime() + leaseSeconds * 1000;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: datasetPk(dataset), sk: 'LEASE' },
          UpdateExpression: 'SET #owner = :owner, expiresAt = :exp, #ttl = :ttl',
          ConditionExpression:
            'attribute_not_exists(pk) OR #owner = :owner OR expiresAt < :now' +
            (replacing ? ' OR #owner = :replacing' : ''),
          ExpressionAttributeNames: { '#owner': 'owner', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ...(replacing ? { ':replacing': replacing } : {}),
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

  async release(dataset: string, owner: string, expiresAt?: Date): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: datasetPk(dataset), sk: 'LEASE' },
          ConditionExpression: '#owner = :owner' + (expiresAt ? ' AND expiresAt = :exp' : ''),
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner, ...(expiresAt ? { ':exp': expiresAt.getTime() } : {}) },
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
