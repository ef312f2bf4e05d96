/**
 * The batched intake's store over the local runtime's debounce ledger: the DynamoDB batch adapter itself
 * (adapters/aws/dynamo-arrival-batches.ts) on the ledger's in-memory DynamoDB, so the local runtime writes the
 * same items in the same transactions as AWS.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoArrivalBatches } from '../aws/dynamo-arrival-batches';
import { MEMORY_STATE_TABLE, type MemoryArrivalLedger } from '../memory/state';

export class LedgerArrivalBatches extends DynamoArrivalBatches {
  constructor(ledger: MemoryArrivalLedger) {
    super(ledger.store.doc as unknown as DynamoDBDocumentClient, MEMORY_STATE_TABLE);
  }
}
