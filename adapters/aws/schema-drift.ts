/**
 * The AWS side of the drift port (issue 24): the partitions' files by ListObjectsV2, their schemas by ranged GETs
 * (s3-ranges.ts), the crawled raw table by Glue GetTable, and the fingerprints as their own DynamoDB item kind in
 * the state table: pk `SCHEMA#<dataset>`, sk `FP#<fingerprint>`. That partition key is none of the run protocol's
 * (docs/protocol.md), so no protocol query or transaction ever reads or writes these items.
 */
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import type { GlueClient } from '@aws-sdk/client-glue';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  isHiddenFile,
  type DriftPort,
  type FingerprintRecord,
  type FingerprintStore,
  type ReadRange,
} from '../../domain/drift';
import { queryAll } from './dynamo-query';
import { call, mapAwsError } from './errors';
import { getRawTableColumns } from './glue';
import { s3RangeReader } from './s3-ranges';

const pk = (dataset: string) => `SCHEMA#${dataset}`;
const sk = (fingerprint: string) => `FP#${fingerprint}`;

export class DynamoFingerprints implements FingerprintStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async list(dataset: string): Promise<FingerprintRecord[]> {
    const items = await queryAll<FingerprintRecord & { pk: string; sk: string }>(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :fp)',
      ExpressionAttributeValues: { ':pk': pk(dataset), ':fp': 'FP#' },
    });
    return items.map(({ pk: _pk, sk: _sk, ...record }) => record);
  }

  /** A conditional put (first writer wins); a lost race or an SDK retry of an applied put reads the stored one. */
  async record(record: FingerprintRecord): Promise<FingerprintRecord> {
    const key = { pk: pk(record.dataset), sk: sk(record.fingerprint) };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...key, ...record },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return record;
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException')
        throw mapAwsError(error, 'DynamoDB PutItem (schema fingerprint)');
    }
    const { Item } = await call('DynamoDB GetItem (schema fingerprint)', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true })),
    );
    const { pk: _pk, sk: _sk, ...stored } = Item as FingerprintRecord & { pk: string; sk: string };
    return stored;
  }

  async markCrawled(dataset: string, fingerprints: readonly string[], at: string): Promise<void> {
    for (const fingerprint of fingerprints) {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: pk(dataset), sk: sk(fingerprint) },
            UpdateExpression: 'SET crawledAt = if_not_exists(crawledAt, :at)',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':at': at },
          }),
        );
      } catch (error) {
        // A fingerprint nobody recorded is nothing to mark.
        if ((error as { name?: string }).name !== 'ConditionalCheckFailedException')
          throw mapAwsError(error, 'DynamoDB UpdateItem (schema fingerprint)');
      }
    }
  }
}

export class AwsDrift implements DriftPort {
  readonly fingerprints: FingerprintStore;

  constructor(
    private readonly s3: S3Client,
    private readonly glue: GlueClient,
    doc: DynamoDBDocumentClient,
    table: string,
  ) {
    this.fingerprints = new DynamoFingerprints(doc, table);
  }

  /** Every object under the prefix (ListObjectsV2 pages of 1,000), without zero-byte and hidden ones. */
  async listFiles(bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const page of paginateListObjectsV2({ client: this.s3 }, { Bucket: bucket, Prefix: prefix }))
        for (const o of page.Contents ?? [])
          if (o.Key && (o.Size ?? 0) > 0 && !o.Key.endsWith('/') && !isHiddenFile(o.Key)) keys.push(o.Key);
    } catch (error) {
      throw mapAwsError(error, `S3 ListObjectsV2 s3://${bucket}/${prefix}`);
    }
    return keys;
  }

  reader(bucket: string, key: string): ReadRange {
    return s3RangeReader(this.s3, bucket, key);
  }

  rawTable(database: string, table: string) {
    return getRawTableColumns(this.glue, database, table);
  }
}
