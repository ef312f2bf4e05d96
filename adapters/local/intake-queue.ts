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
  type SqsRecord,
} from '../../domain/intake-batch';
import type { Log } from '../../domain/ports';

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
  windowMs?: number;
  /** How often a failed record comes back before it is given up to the dead-letter file (SQS maxReceiveCount). */
  maxReceiveCount?: number;
  onBatch?: (outcome: BatchOutcome) => void;
}

export class LocalIntakeQueue {
  private queue: Array<SqsRecord & { receives: number }> = [];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;

  constructor(
    private readonly deps: BatchDeps & { poison: PoisonSink },
    private readonly log: Log,
    private readonly options: LocalIntakeQueueOptions = {},
  ) {}

  /** What EventBridge does: put the event on the queue. Resolves once queued; `drained()` waits for the intake. */
  send(event: unknown): void {
    this.queue.push({ messageId: `local-${++this.next}`, body: JSON.stringify(event), receives: 0 });
    if ((this.options.batchSize ?? 1000) <= this.queue.length) void this.drain();
    else this.timer ??= setTimeout(() => void this.drain(), this.options.windowMs ?? 50);
  }

  /** Hands every queued record to the intake, failed ones again, until the queue is empty. */
  drain(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.draining ??= (async () => {
      try {
        while (this.queue.length > 0) {
          const batch = this.queue.splice(0, this.options.batchSize ?? 1000);
          for (const r of batch) r.receives++;
          const outcome = await acceptBatch({ Records: batch }, this.deps, this.log);
          this.options.onBatch?.(outcome);
          const failed = new Set(outcome.batchItemFailures.map((f) => f.itemIdentifier));
          for (const r of batch.filter((b) => failed.has(b.messageId))) {
            if (r.receives >= (this.options.maxReceiveCount ?? 5)) {
              const reason = outcome.records.find((o) => o.messageId === r.messageId);
              await this.deps.poison.send([
                {
                  messageId: r.messageId,
                  body: r.body,
                  reason: `failed ${r.receives} times; last: ${reason && 'reason' in reason ? reason.reason : 'unknown'}`,
                },
              ]);
            } else this.queue.push(r);
          }
        }
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }
}
