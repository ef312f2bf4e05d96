/**
 * The DynamoDB side of the debounce port and the run lease, in one table (pk, sk, ttl). docs/protocol.md states
 * the protocol, its invariants and why they hold; this file is its storage half.
 *
 *   DS#<dataset>       LEASE                 owner, expiresAt (epoch ms), starting {name, input}, arrivals (counter)
 *   DS#<dataset>       PENDING#<partition>   firstAt, lastAt (epoch ms), count, version
 *   DS#<dataset>       CLAIM#<executionArn>  partitions (string set), claimedAt, firstAt, lastAt
 *   EV#<object key>    <sequencer>           dataset, partition, ttl - "this object event was recorded"
 *
 * Every change that spans items is one TransactWriteItems (all or nothing, with condition checks:
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html), so no state exists
 * only between two writes:
 * - recording an arrival: the event marker (condition: new), its partition's pending update and the lease item's
 *   `arrivals` counter change together. A duplicate fails the marker's condition and writes nothing.
 * - claiming: a condition check that the caller holds the lease, the claim's new partitions, and the deletion of
 *   each claimed pending item on the version it was read at, together (chunks of at most 98 partitions).
 * - returning a claim: a condition check that the caller holds the lease, the removal of a chunk from the claim
 *   and the re-opening of that chunk's partitions, together; a retry resumes where the last chunk ended.
 * - giving the lease back is conditional on `arrivals` being what the giver read before it read pending, so an
 *   arrival recorded after that read makes the give-back fail and the giver look again (docs/protocol.md, I1).
 * Every transaction carries a ClientRequestToken made once per logical call, so the SDK's own retry of a
 * transaction that was applied but whose answer was lost succeeds without applying it twice ("multiple identical
 * calls have the same effect as one single call", valid 10 minutes; TransactWriteItems, ClientRequestToken).
 * The lease's expiry is checked inside the condition; it only frees the lease of a run that died unseen.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  selectClaimable,
  type ClaimLimits,
  type Arrival,
  type ArrivalLedger,
  type Lease,
  type PendingSummary,
  type ReturnClaimOptions,
  type RunLeaseStore,
  type StartIntent,
} from '../../domain/runs';
import { AwsThrottledError, LeaseHeldError } from '../../domain/common';
import { queryAll } from './dynamo-query';
import { call, mapAwsError } from './errors';

export const EVENT_MARKER_DAYS = 7;
/** A transaction holds at most 100 actions; a chunk leaves room for the lease check and the claim update. */
export const CHUNK_PARTITIONS = 98;
/** A claim return stops starting chunks after this long and asks to be retried; the rest resumes then. */
export const RETURN_BUDGET_MS = 20_000;
const MAX_CLAIM_ATTEMPTS = 5;
const CLAIM_PREFIX = 'CLAIM#';

/**
 * By name, as the SDK's guide does (https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/the-response-object.html,
 * "Access error information"): every service exception carries its name, also across two copies of the SDK.
 */
const isConditionFailure = (error: unknown): boolean =>
  (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

/**
 * TransactionCanceledException carries one reason per action, in request order; `ConditionalCheckFailed` names
 * the actions whose condition failed (API_TransactWriteItems, Errors). Other codes (TransactionConflict,
 * ThrottlingError, ...) mean "try again": the caller maps them to a retryable error.
 */
export function cancellationCodes(error: unknown): string[] | undefined {
  const e = error as { name?: string; CancellationReasons?: Array<{ Code?: string }> } | null;
  if (e?.name !== 'TransactionCanceledException') return undefined;
  return (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}

export const datasetPk = (dataset: string): string => `DS#${dataset}`;
const epochSeconds = (ms: number): number => Math.floor(ms / 1000);
const LEASE_SK = 'LEASE';

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

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The lease item's arrival counter, bumped in the same transaction as every recorded arrival. */
export const bumpArrivals = (table: string, dataset: string) => ({
  Update: {
    TableName: table,
    Key: { pk: datasetPk(dataset), sk: LEASE_SK },
    UpdateExpression: 'ADD arrivals :one',
    ExpressionAttributeValues: { ':one': 1 },
  },
});

/** Opens or refreshes a pending partition with `count` new arrivals (the version bump makes a concurrent claim re-read it). */
export const openPending = (table: string, dataset: string, partition: string, at: number, count: number) => ({
  Update: {
    TableName: table,
    Key: { pk: datasetPk(dataset), sk: `PENDING#${partition}` },
    UpdateExpression: 'SET firstAt = if_not_exists(firstAt, :at), lastAt = :at ADD #count :n, version :one',
    ExpressionAttributeNames: { '#count': 'count' },
    ExpressionAttributeValues: { ':at': at, ':n': count, ':one': 1 },
  },
});

/** The event marker: written only if this key + sequencer was never recorded. */
export const putMarker = (
  table: string,
  event: { dataset: string; partitionKey: string; objectKey: string; sequencer: string },
  at: number,
) => ({
  Put: {
    TableName: table,
    Item: {
      pk: `EV#${event.objectKey}`,
      sk: event.sequencer,
      dataset: event.dataset,
      partition: event.partitionKey,
      ttl: epochSeconds(at) + EVENT_MARKER_DAYS * 86400,
    },
    ConditionExpression: 'attribute_not_exists(pk)',
  },
});

const leaseHeldBy = (table: string, dataset: string, holder: string) => ({
  ConditionCheck: {
    TableName: table,
    Key: { pk: datasetPk(dataset), sk: LEASE_SK },
    ConditionExpression: '#owner = :holder',
    ExpressionAttributeNames: { '#owner': 'owner' },
    ExpressionAttributeValues: { ':holder': holder },
  },
});

/** Conflicts with a concurrent transaction on one of the items: tried again a few times, then retryable. */
const CONFLICT_ATTEMPTS = 5;
const isConflictOnly = (codes: string[] | undefined): boolean =>
  codes !== undefined &&
  codes.some((c) => c === 'TransactionConflict' || c === 'ThrottlingError' || c === 'ProvisionedThroughputExceeded') &&
  !codes.includes('ConditionalCheckFailed');

/**
 * One TransactWriteItems with a token made once for this call (the SDK's retries reuse it). DynamoDB cancels a
 * transaction that meets another one on the same item (reason `TransactionConflict`), and the SDK does not retry
 * a cancellation; every recording transaction of a dataset touches its lease item, so a burst meets them: they
 * are tried again here after a short random pause, and after that reported as retryable (AwsThrottledError).
 */
export async function transact(doc: DynamoDBDocumentClient, items: object[]): Promise<void> {
  const ClientRequestToken = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      await doc.send(new TransactWriteCommand({ TransactItems: items as never, ClientRequestToken }));
      return;
    } catch (error) {
      if (!isConflictOnly(cancellationCodes(error))) throw error;
      if (attempt >= CONFLICT_ATTEMPTS)
        throw new AwsThrottledError(`DynamoDB TransactWriteItems: conflicts on ${attempt} attempts`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

export class DynamoArrivalLedger implements ArrivalLedger {
  constructor(
    protected readonly doc: DynamoDBDocumentClient,
    protected readonly table: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async recordArrival(arrival: Arrival): Promise<{ duplicate: boolean }> {
    const at = this.now().getTime();
    try {
      await transact(this.doc, [
        putMarker(this.table, arrival, at),
        openPending(this.table, arrival.dataset, arrival.partitionKey, at, 1),
        bumpArrivals(this.table, arrival.dataset),
      ]);
    } catch (error) {
      // Only the marker has a condition: a failed one means this event was recorded before (another delivery).
      if (cancellationCodes(error)?.[0] === 'ConditionalCheckFailed') return { duplicate: true };
      throw mapAwsError(error, 'DynamoDB TransactWriteItems');
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

  private async readPending(item: PendingItem): Promise<PendingItem | undefined> {
    const { Item } = await call('DynamoDB GetItem', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true })),
    );
    return Item as PendingItem | undefined;
  }

  /**
   * One chunk into the claim, atomically: the lease check, the claim's new partitions, and the deletion of each
   * pending item on the version it was read at. A version that moved (an arrival landed on it) cancels the
   * chunk: those items are read again and the chunk retried, a few times; one that keeps moving stays pending
   * for the follow-up run rather than spin. The lease check failing means this run no longer holds the lease.
   */
  private async claimChunk(dataset: string, executionArn: string, chunk: PendingItem[]): Promise<void> {
    let items = chunk;
    for (let attempt = 1; items.length > 0 && attempt <= MAX_CLAIM_ATTEMPTS + 1; attempt++) {
      try {
        await transact(this.doc, [
          leaseHeldBy(this.table, dataset, executionArn),
          {
            Update: {
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
            },
          },
          ...items.map((item) => ({
            Delete: {
              TableName: this.table,
              Key: { pk: item.pk, sk: item.sk },
              ConditionExpression: 'version = :v',
              ExpressionAttributeValues: { ':v': item.version },
            },
          })),
        ]);
        return;
      } catch (error) {
        const codes = cancellationCodes(error);
        if (!codes) throw mapAwsError(error, 'DynamoDB TransactWriteItems');
        if (codes[0] === 'ConditionalCheckFailed')
          throw new LeaseHeldError(
            `dataset '${dataset}': ${executionArn} no longer holds the run lease; it claims nothing`,
          );
        if (!codes.includes('ConditionalCheckFailed')) throw mapAwsError(error, 'DynamoDB TransactWriteItems'); // conflicts, throttles: retried by the caller
        // Items whose version moved are read again and retried; after MAX_CLAIM_ATTEMPTS they are left pending
        // (for the follow-up run), so one partition that keeps changing never holds up the rest of the chunk.
        const fresh: PendingItem[] = [];
        for (const [i, item] of items.entries()) {
          if (codes[i + 2] !== 'ConditionalCheckFailed') fresh.push(item);
          else if (attempt < MAX_CLAIM_ATTEMPTS) {
            const now = await this.readPending(item);
            if (now) fresh.push(now); // gone: nobody else claims while we hold the lease, so it cannot be
          }
        }
        items = fresh;
      }
    }
  }

  async claimPending(dataset: string, executionArn: string, _now?: Date, limits?: ClaimLimits): Promise<string[]> {
    const pending = await this.pendingItems(dataset);
    const items = limits ? await this.claimable(dataset, executionArn, pending, limits) : pending;
    for (const chunk of chunks(items, CHUNK_PARTITIONS)) await this.claimChunk(dataset, executionArn, chunk);
    return claimedPartitions(await this.readClaim(dataset, executionArn));
  }

  /**
   * Under the claim limits (issue 12): a first claim takes the oldest pending partitions within them. A retried
   * claim, whose record already holds partitions, takes nothing new (the first attempt chose within the limits;
   * its chunks are atomic, so what it holds is exactly what it took): anything else waits for the follow-up run.
   */
  private async claimable(
    dataset: string,
    executionArn: string,
    pending: PendingItem[],
    limits: ClaimLimits,
  ): Promise<PendingItem[]> {
    if (claimedPartitions(await this.readClaim(dataset, executionArn)).length > 0) return [];
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

  /**
   * One chunk back, atomically: the returner still holds the lease, the chunk leaves the claim, and its
   * partitions not in `keep` are pending again (with the claimed arrivals' times; a newer arrival keeps its own).
   */
  private async returnChunk(
    dataset: string,
    executionArn: string,
    claim: ClaimItem,
    chunk: string[],
    keep: ReadonlySet<string>,
    holder: string,
  ): Promise<string[]> {
    const back = chunk.filter((p) => !keep.has(p));
    const at = this.now().getTime();
    try {
      await transact(this.doc, [
        leaseHeldBy(this.table, dataset, holder),
        {
          Update: {
            TableName: this.table,
            Key: this.claimKey(dataset, executionArn),
            UpdateExpression: 'DELETE #partitions :chunk',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#partitions': 'partitions' },
            ExpressionAttributeValues: { ':chunk': new Set(chunk) },
          },
        },
        ...back.map((partition) => ({
          Update: {
            TableName: this.table,
            Key: { pk: datasetPk(dataset), sk: `PENDING#${partition}` },
            UpdateExpression:
              'SET firstAt = if_not_exists(firstAt, :first), lastAt = if_not_exists(lastAt, :last) ' +
              'ADD #count :one, version :one',
            ExpressionAttributeNames: { '#count': 'count' },
            ExpressionAttributeValues: {
              ':first': claim.firstAt ?? at,
              ':last': claim.lastAt ?? at,
              ':one': 1,
            },
          },
        })),
      ]);
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.[0] === 'ConditionalCheckFailed')
        throw new LeaseHeldError(`dataset '${dataset}': ${holder} no longer holds the run lease; it returns nothing`);
      if (codes?.[1] === 'ConditionalCheckFailed') return []; // the claim is gone: returned or forgotten already
      throw mapAwsError(error, 'DynamoDB TransactWriteItems');
    }
    return back;
  }

  async returnClaim(
    dataset: string,
    executionArn: string,
    keep: readonly string[] = [],
    options: ReturnClaimOptions = {},
  ): Promise<string[]> {
    const claim = await this.readClaim(dataset, executionArn);
    if (!claim) return [];
    const kept = new Set(keep); // a Set: a 10,000-partition claim is filtered in linear time (issue 26, item 8)
    const holder = options.holder ?? executionArn;
    const started = this.now().getTime();
    const budget = options.budgetMs ?? RETURN_BUDGET_MS;
    const back: string[] = [];
    let outOfTime = false;
    // One chunk at a time: every chunk's transaction updates the claim item and checks the lease item, and
    // DynamoDB cancels concurrent transactions on one item (TransactionConflict, API_TransactWriteItems, Errors),
    // so chunks in parallel would only fail each other. 98 partitions per round trip: 10,000 in about 100.
    for (const chunk of chunks(claimedPartitions(claim), CHUNK_PARTITIONS)) {
      if (this.now().getTime() - started >= budget) {
        outOfTime = true;
        break;
      }
      back.push(...(await this.returnChunk(dataset, executionArn, claim, chunk, kept, holder)));
    }
    if (outOfTime)
      // Retryable: what went back has left the claim, so the retry resumes with the rest.
      throw new AwsThrottledError(
        `dataset '${dataset}': returned ${back.length} partitions of ${executionArn}'s claim within ${budget} ms; ` +
          'the rest is returned on retry',
      );
    await this.forgetClaim(dataset, executionArn);
    return back.sort();
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

  async acquire(
    dataset: string,
    owner: string,
    now: Date,
    leaseSeconds: number,
    replacing?: string,
    starting?: StartIntent,
  ): Promise<boolean> {
    const expiresAt = now.getTime() + leaseSeconds * 1000;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: datasetPk(dataset), sk: LEASE_SK },
          // The counter exists whenever the lease is held, so a give-back can compare it. A run lease drops the
          // start-up intent: the execution has started.
          UpdateExpression:
            'SET #owner = :owner, expiresAt = :exp, arrivals = if_not_exists(arrivals, :zero)' +
            (starting ? ', starting = :starting' : ' REMOVE starting'),
          ConditionExpression:
            'attribute_not_exists(#owner) OR #owner = :owner OR expiresAt < :now' +
            (replacing ? ' OR #owner = :replacing' : ''),
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ...(replacing ? { ':replacing': replacing } : {}),
            ...(starting ? { ':starting': starting } : {}),
            ':owner': owner,
            ':exp': expiresAt,
            ':now': now.getTime(),
            ':zero': 0,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw mapAwsError(error, 'DynamoDB UpdateItem');
    }
  }

  async release(dataset: string, owner: string, expiresAt?: Date, arrivals?: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: datasetPk(dataset), sk: LEASE_SK },
          // The item stays (its counter with it); only the ownership goes.
          UpdateExpression: 'REMOVE #owner, expiresAt, starting',
          ConditionExpression:
            '#owner = :owner' +
            (expiresAt ? ' AND expiresAt = :exp' : '') +
            (arrivals !== undefined ? ' AND arrivals = :arrivals' : ''),
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':owner': owner,
            ...(expiresAt ? { ':exp': expiresAt.getTime() } : {}),
            ...(arrivals !== undefined ? { ':arrivals': arrivals } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw mapAwsError(error, 'DynamoDB UpdateItem');
    }
  }

  async current(dataset: string): Promise<Lease | null> {
    const { Item } = await call('DynamoDB GetItem', () =>
      this.doc.send(
        new GetCommand({ TableName: this.table, Key: { pk: datasetPk(dataset), sk: LEASE_SK }, ConsistentRead: true }),
      ),
    );
    if (!Item?.owner) return null;
    return {
      owner: String(Item.owner),
      expiresAt: new Date(Number(Item.expiresAt)).toISOString(),
      arrivals: Number(Item.arrivals ?? 0),
      ...(Item.starting ? { starting: Item.starting as StartIntent } : {}),
    };
  }

  /** The arrival counter alone (the lease may be free): what a give-back compares. */
  async arrivals(dataset: string): Promise<number> {
    const { Item } = await call('DynamoDB GetItem', () =>
      this.doc.send(
        new GetCommand({ TableName: this.table, Key: { pk: datasetPk(dataset), sk: LEASE_SK }, ConsistentRead: true }),
      ),
    );
    return Number(Item?.arrivals ?? 0);
  }
}
