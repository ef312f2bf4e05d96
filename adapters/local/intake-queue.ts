/**
 * The local stand-in for the intake queue and its event source mapping: events are queued, handed to the same
 * batch handler as on AWS in batches (at most `batchSize` records, or what came within `windowMs`), the records
 * the handler reports as failures are queued again, and poison goes to a JSON-lines dead-letter file in the lake.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  acceptBatch,
  type BatchDeps,
  type BatchOutcome,
  type PoisonSink,
  type RecordOutcome,
  type SqsRecord,
} from '../../domain/intake';
import type { Log } from '../../domain/common';

export class FileDeadLetters implements PoisonSink {
  constructor(readonly file: string) {}

  async send(records: Array<{ messageId: string; body: string; reason: string }>): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(
      this.file,
      records.map((r) => `${JSON.stringify({ ...r, at: new Date().toISOString() })}\n`).join(''),
    );
  }
}

export interface LocalIntakeQueueOptions {
  batchSize?: number;
  /**
   * How long the first queued record waits for others before its batch goes (Lambda's batching window).
   * 0: the batch is what was queued in the same turn of the event loop (it goes on a microtask), so events sent
   * back to back form one batch and no timer delays a caller that awaits each event.
   */
  windowMs?: number;
  /** How often a failed record comes back before it is given up to the dead-letter file (SQS maxReceiveCount). */
  maxReceiveCount?: number;
  onBatch?: (outcome: BatchOutcome) => void;
}

/** A record's last word: handled (accepted, duplicate, rejected, poison), or given up after its receives. */
export interface SettledRecord {
  outcome: RecordOutcome;
  /** The batch that settled it (its started executions, for instance). */
  batch: BatchOutcome;
}

interface Queued extends SqsRecord {
  receives: number;
  settle: (settled: SettledRecord) => void;
}

export class LocalIntakeQueue {
  private queue: Queued[] = [];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private draining: Promise<void> | undefined;

  constructor(
    private readonly deps: BatchDeps & { poison: PoisonSink },
    private readonly log: Log,
    private readonly options: LocalIntakeQueueOptions = {},
  ) {}

  /** What EventBridge does: put the event on the queue. `drain()` waits for the intake. */
  send(event: unknown): void {
    void this.enqueue(event);
  }

  /** Puts the event on the queue; resolves with its record's last outcome, once the intake has settled it. */
  enqueue(event: unknown): Promise<SettledRecord> {
    return new Promise((settle) => {
      this.queue.push({ messageId: `local-${++this.next}`, body: JSON.stringify(event), receives: 0, settle });
      this.schedule();
    });
  }

  /** Records queued or in a batch being handled. */
  get busy(): boolean {
    return this.queue.length > 0 || this.draining !== undefined;
  }

  private schedule(): void {
    const windowMs = this.options.windowMs ?? 50;
    if ((this.options.batchSize ?? 1000) <= this.queue.length) void this.drain();
    else if (windowMs <= 0) {
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => void this.drain());
      }
    } else this.timer ??= setTimeout(() => void this.drain(), windowMs);
  }

  /** Hands every queued record to the intake, failed ones again, until the queue is empty. */
  drain(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.scheduled = false;
    if (this.draining) return this.draining;
    if (this.queue.length === 0) return Promise.resolve();
    // Assigned before it can settle: `finally` runs on a later microtask, so `busy` never sticks.
    const draining = this.handleAll().finally(() => {
      this.draining = undefined;
    });
    this.draining = draining;
    return draining;
  }

  private async handleAll(): Promise<void> {
    while (this.queue.length > 0) await this.handle(this.queue.splice(0, this.options.batchSize ?? 1000));
  }

  private async handle(batch: Queued[]): Promise<void> {
    for (const r of batch) {
      r.receives++;
      r.attributes = { ApproximateReceiveCount: String(r.receives) };
    }
    const records = batch.map(({ messageId, body, attributes }) => ({
      messageId,
      body,
      ...(attributes ? { attributes } : {}),
    }));
    const outcome = await acceptBatch({ Records: records }, this.deps, this.log);
    this.options.onBatch?.(outcome);
    const byId = new Map(outcome.records.map((o) => [o.messageId, o]));
    for (const r of batch) {
      const result = byId.get(r.messageId) ?? { messageId: r.messageId, status: 'failed', reason: 'not handled' };
      if (result.status !== 'failed') r.settle({ outcome: result, batch: outcome });
      else if (r.receives < (this.options.maxReceiveCount ?? 5)) this.queue.push(r);
      else await this.giveUp(r, result.reason, outcome);
    }
  }

  /** The queue's redrive policy: after maxReceiveCount receives, the record goes to the dead-letter file. */
  private async giveUp(r: Queued, lastReason: string, batch: BatchOutcome): Promise<void> {
    const reason = `failed ${r.receives} times; last: ${lastReason}`;
    try {
      await this.deps.poison.send([{ messageId: r.messageId, body: r.body, reason }]);
      r.settle({ outcome: { messageId: r.messageId, status: 'poison', reason }, batch });
    } catch (error) {
      // Not even the dead-letter file could take it: say so loudly rather than drop it silently.
      this.log.error('an intake record could not be written to the dead-letter file', {
        messageId: r.messageId,
        error: error instanceof Error ? error.message : String(error),
      });
      r.settle({
        outcome: { messageId: r.messageId, status: 'failed', reason: `${reason}; dead-letter write failed too` },
        batch,
      });
    }
  }
}
