/**
 * The debounce ledger and run lease for one process (the local runtime and the tests): the DynamoDB adapters
 * themselves (adapters/aws/dynamo-state.ts), over the in-memory DynamoDB (adapters/memory/dynamo.ts). One
 * implementation of the protocol, whatever the store; tests/protocol/adapters-agree.test.ts holds the in-memory
 * DynamoDB equal to moto's.
 *
 * The ledger and the lease must share one store: the arrival counter and the lease owner are one item, and the
 * claim transactions check the owner. Pass the same `MemoryDynamo` to both. Without one, a `MemoryRunLeases` made
 * right after a `MemoryArrivalLedger` takes that ledger's store (the pairing callers that build them side by side,
 * ledger first, rely on: the local runtime, the test fakes); otherwise each makes its own.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoArrivalLedger, DynamoRunLeases } from '../aws/dynamo-state';
import type { Clock } from '../../domain/common';
import type { ClaimLimits } from '../../domain/runs';
import { MemoryDynamo } from './dynamo';

export const MEMORY_STATE_TABLE = 'state';

/** A store with the state table made. */
export function memoryStateStore(now: () => number = () => Date.now()): MemoryDynamo {
  const store = new MemoryDynamo(now);
  store.createTable(MEMORY_STATE_TABLE);
  return store;
}

const asDoc = (store: MemoryDynamo) => store.doc as unknown as DynamoDBDocumentClient;

/** The store of the last ledger made without one and not yet paired with a lease (see above). */
let unpaired: MemoryDynamo | undefined;

export class MemoryArrivalLedger extends DynamoArrivalLedger {
  /** Every claim that took partitions, in order (tests read it). */
  readonly claims: Array<{ dataset: string; executionArn: string; partitions: string[] }> = [];

  constructor(
    clock: Clock,
    readonly store: MemoryDynamo = memoryStateStore(() => clock.now().getTime()),
  ) {
    super(asDoc(store), MEMORY_STATE_TABLE, () => clock.now());
    unpaired = store;
  }

  override async claimPending(
    dataset: string,
    executionArn: string,
    now?: Date,
    limits?: ClaimLimits,
  ): Promise<string[]> {
    const before = (await this.claimOwners(dataset)).includes(executionArn);
    const partitions = await super.claimPending(dataset, executionArn, now, limits);
    if (partitions.length > 0 && !before) this.claims.push({ dataset, executionArn, partitions });
    return partitions;
  }

  /** The recorded event ids (`key\nsequencer`), so a local lake can remember across processes what it took in. */
  exportSeen(): string[] {
    return this.store
      .items(MEMORY_STATE_TABLE)
      .filter((item) => String(item.pk).startsWith('EV#'))
      .map((item) => `${String(item.pk).slice('EV#'.length)}\n${String(item.sk)}`);
  }

  importSeen(ids: string[]): void {
    for (const id of ids) {
      const cut = id.lastIndexOf('\n');
      this.store.execute('PutCommand', {
        TableName: MEMORY_STATE_TABLE,
        Item: { pk: `EV#${id.slice(0, cut)}`, sk: id.slice(cut + 1) },
      });
    }
  }
}

export class MemoryRunLeases extends DynamoRunLeases {
  readonly store: MemoryDynamo;

  constructor(store?: MemoryDynamo) {
    const shared = store ?? unpaired ?? memoryStateStore();
    super(asDoc(shared), MEMORY_STATE_TABLE);
    if (shared === unpaired) unpaired = undefined;
    this.store = shared;
  }
}
