/**
 * The batch intake's dependencies on the in-memory DynamoDB, with the real DynamoDB adapters over it: one table,
 * a clock that stands still at `startMs`, recorded StartExecutions, a poison queue that accepts everything, and the
 * given HeadObject port.
 */
import { DynamoArrivalBatches } from '../../adapters/aws/dynamo-arrival-batches';
import { DynamoArrivalLedger, DynamoRunLeases } from '../../adapters/aws/dynamo-state';
import { MemoryDynamo } from '../../adapters/memory/dynamo';
import type { ObjectStorePort } from '../../domain/common';
import type { BatchDeps } from '../../domain/intake';
import { RecordingExecutions, testConfig, TickingClock } from './fakes';

export function memoryBatchDeps(startMs: number, objects: ObjectStorePort): BatchDeps {
  const store = new MemoryDynamo(() => startMs);
  store.createTable('t');
  const doc = store.doc as never;
  const clock = new TickingClock(startMs, 0);
  return {
    config: testConfig(),
    clock,
    arrivals: new DynamoArrivalLedger(doc, 't', () => clock.now()),
    leases: new DynamoRunLeases(doc, 't'),
    executions: new RecordingExecutions(),
    batches: new DynamoArrivalBatches(doc, 't'),
    poison: { send: async () => undefined },
    objects,
  };
}
