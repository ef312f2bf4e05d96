/**
 * The local stand-in for EventBridge's default bus, for the state-change events that complete waits (issue 13).
 * Local Glue/Athena stand-ins publish `Glue Job State Change`, `Glue Crawler State Change` and `Athena Query State
 * Change` in AWS's shapes (validated against schemas/waits.schema.json on publish, so a stand-in cannot drift);
 * subscribers receive them asynchronously, like a rule target. Tests may withhold (lose) or duplicate events.
 */
import type { WaitStateChangeEvent } from '../../schemas/types.generated';
import { validate } from '../../domain/common';

export type EventHandler = (event: WaitStateChangeEvent) => Promise<unknown>;

export interface BusFaults {
  /** true: the event is lost (EventBridge delivery is best effort). */
  withhold?(event: WaitStateChangeEvent): boolean;
  /** How many times to deliver it (default 1). */
  copies?(event: WaitStateChangeEvent): number;
}

export class LocalEventBus {
  private readonly handlers: EventHandler[] = [];
  private readonly queue: WaitStateChangeEvent[] = [];
  readonly published: WaitStateChangeEvent[] = [];
  readonly withheld: WaitStateChangeEvent[] = [];
  readonly failures: Array<{ event: WaitStateChangeEvent; error: unknown }> = [];
  private inFlight = 0;

  constructor(private readonly faults: BusFaults = {}) {}

  subscribe(handler: EventHandler): void {
    this.handlers.push(handler);
  }

  /** Queues the event; `deliverAll` (or the runner's idle driver) hands it to the subscribers. */
  publish(event: unknown): void {
    const checked = validate<WaitStateChangeEvent>('WaitStateChangeEvent', structuredClone(event), 'local event');
    this.published.push(checked);
    if (this.faults.withhold?.(checked)) {
      this.withheld.push(checked);
      return;
    }
    for (let i = 0; i < (this.faults.copies?.(checked) ?? 1); i++) this.queue.push(structuredClone(checked));
  }

  /** Events queued or being handled. */
  pending(): number {
    return this.queue.length + this.inFlight;
  }

  /**
   * Delivers every queued event to every subscriber, concurrently like independent rule invocations. A failing
   * handler is recorded, not thrown: in AWS it would be retried and then land in the rule's DLQ.
   */
  async deliverAll(): Promise<number> {
    const batch = this.queue.splice(0, this.queue.length);
    this.inFlight += batch.length;
    await Promise.all(
      batch.map(async (event) => {
        try {
          for (const handler of this.handlers) await handler(event);
        } catch (error) {
          this.failures.push({ event, error });
        } finally {
          this.inFlight -= 1;
        }
      }),
    );
    return batch.length;
  }
}
