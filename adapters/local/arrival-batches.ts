/**
 * The batched intake's store over the local runtime's in-memory debounce ledger (the same items the single-record
 * intake writes: pending partitions and seen events), so the local runtime feeds the batch handler AWS runs.
 *
 * In one process nothing can fail between two writes, so the ledger's `recordArrival` writes an object's marker
 * and its partition's pending entry in one synchronous step: `addPending` has nothing left to do (the per-object
 * count it would add is what the markers add), and a duplicate that lost the marker race adds nothing at all.
 */
import { eventId, type ArrivalBatchStore, type ObjectEvent } from '../../domain/intake-batch';
import type { MemoryArrivalLedger } from '../memory/state';

export class LedgerArrivalBatches implements ArrivalBatchStore {
  constructor(private readonly ledger: MemoryArrivalLedger) {}

  async recordedEvents(events: readonly ObjectEvent[]): Promise<Set<string>> {
    if (events.length === 0) return new Set();
    const seen = new Set(this.ledger.exportSeen());
    return new Set(events.map(eventId).filter((id) => seen.has(id)));
  }

  async addPending(): Promise<void> {
    // Written with each marker by markRecorded (see above).
  }

  async markRecorded(event: ObjectEvent): Promise<boolean> {
    const { duplicate } = await this.ledger.recordArrival(event);
    return !duplicate;
  }
}
