/**
 * The wait store on the existing state table (pk, sk, ttl), single-item writes only:
 *
 *   WAIT#<subject>       WAITER#<waiterId>   taskToken, check, subjects, recordedAt, sentAt?, delivery?, ttl
 *   WAITER#<waiterId>    FINALS              finals (string set: the subjects seen final), ttl   (issue 23)
 *
 * recordWait puts one item per subject (a retry rewrites the same items; a re-await after a fallback timeout
 * replaces the token and clears sentAt). waitersOf/waiter read with ConsistentRead: the completion must see a
 * token recorded before it looked, or the "whichever comes second" argument in domain/waits/completion.ts breaks.
 * markSent is conditional on the token still being the one answered, so it never closes a newer token.
 * TTL only cleans up: nothing reads the expiry.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Delivery } from '../../schemas/types.generated';
import type { WaitRecord, WaitStore } from '../../domain/waits';
import { queryAll } from './dynamo-query';
import { call, mapAwsError } from './errors';

/** Longer than any execution (Standard workflows: TimeoutSeconds 172,800 in the ASL) plus margin. */
export const WAIT_RECORD_DAYS = 4;

const waitPk = (subject: string): string => `WAIT#${subject}`;
const waiterSk = (waiterId: string): string => `WAITER#${waiterId}`;
const finalsKey = (waiterId: string) => ({ pk: `WAITER#${waiterId}`, sk: 'FINALS' });

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string }).name === 'ConditionalCheckFailedException';

interface WaitItem extends WaitRecord {
  pk: string;
  sk: string;
  ttl: number;
}

const toRecord = ({ pk: _pk, sk: _sk, ttl: _ttl, ...record }: WaitItem): WaitRecord => record;

export class DynamoWaitStore implements WaitStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async recordWait(record: Omit<WaitRecord, 'subject' | 'sentAt' | 'delivery'>, now: Date): Promise<void> {
    const ttl = Math.floor(now.getTime() / 1000) + WAIT_RECORD_DAYS * 86_400;
    // JSON round trip: the check input is JSON already; this drops undefined members the marshaller rejects.
    const plain = JSON.parse(JSON.stringify(record)) as typeof record;
    for (const subject of record.subjects)
      await call('DynamoDB PutItem', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: waitPk(subject), sk: waiterSk(record.waiterId), subject, ...plain, ttl },
          }),
        ),
      );
  }

  async waitersOf(subject: string): Promise<WaitRecord[]> {
    const items = await queryAll<WaitItem>(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :waiter)',
      ExpressionAttributeValues: { ':pk': waitPk(subject), ':waiter': 'WAITER#' },
    });
    return items.map(toRecord);
  }

  async waiter(subject: string, waiterId: string): Promise<WaitRecord | null> {
    const { Item } = await call('DynamoDB GetItem', () =>
      this.doc.send(
        new GetCommand({
          TableName: this.table,
          Key: { pk: waitPk(subject), sk: waiterSk(waiterId) },
          ConsistentRead: true,
        }),
      ),
    );
    return Item ? toRecord(Item as WaitItem) : null;
  }

  async markSent(record: WaitRecord, delivery: Delivery, now: Date): Promise<void> {
    for (const subject of record.subjects) {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: waitPk(subject), sk: waiterSk(record.waiterId) },
            UpdateExpression: 'SET sentAt = :at, delivery = :delivery',
            ConditionExpression: 'taskToken = :token',
            ExpressionAttributeValues: { ':at': now.toISOString(), ':delivery': delivery, ':token': record.taskToken },
          }),
        );
      } catch (error) {
        // The waiter re-awaited with a new token (still open), or the record expired: leave it as it is.
        if (isConditionFailure(error)) continue;
        throw mapAwsError(error, 'DynamoDB UpdateItem');
      }
    }
  }

  /**
   * Issue 23: ADD to a string set is atomic and idempotent, and ReturnValues ALL_NEW returns the set after this
   * write: the delivery whose write completes the set sees it complete (UpdateItem, "ADD ... for sets":
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html).
   */
  async markFinal(record: WaitRecord, subject: string, now: Date): Promise<string[]> {
    const ttl = Math.floor(now.getTime() / 1000) + WAIT_RECORD_DAYS * 86_400;
    const { Attributes } = await call('DynamoDB UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: finalsKey(record.waiterId),
          UpdateExpression: 'ADD finals :subject SET #ttl = if_not_exists(#ttl, :ttl)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':subject': new Set([subject]), ':ttl': ttl },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return [...((Attributes?.finals as Set<string> | undefined) ?? [])];
  }

  async finalSubjects(record: WaitRecord): Promise<string[]> {
    const { Item } = await call('DynamoDB GetItem', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: finalsKey(record.waiterId), ConsistentRead: true })),
    );
    return [...((Item?.finals as Set<string> | undefined) ?? [])];
  }
}
