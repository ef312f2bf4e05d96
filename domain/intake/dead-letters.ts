/**
 * Replaying the dead-letter queue: events the intake could not take (store or StartExecution down past every
 * retry) are fed through the same intake again. A message leaves the queue only once the intake has dealt with
 * it (accepted, duplicate, or rejected with a reason); one that fails again stays for the next replay.
 */
import { acceptObjectCreated } from './arrival';
import type { Deps } from '../deps';
import type { Log } from '../common';

export interface DeadLetter {
  id: string;
  body: string;
  receipt: string;
}

export interface DeadLetterQueue {
  receive(max: number): Promise<DeadLetter[]>;
  remove(receipt: string): Promise<void>;
}

/** EventBridge's target DLQ holds the event itself; a Lambda on-failure destination wraps it in requestPayload. */
export function eventOf(body: string): unknown {
  const parsed = JSON.parse(body) as { requestPayload?: unknown };
  return parsed.requestPayload ?? parsed;
}

export async function replayDeadLetters(
  deps: Pick<Deps, 'config' | 'clock' | 'arrivals' | 'leases' | 'executions'>,
  queue: DeadLetterQueue,
  log: Log,
  maxMessages = 1000,
): Promise<{ replayed: number; rejected: number; keptForLater: number }> {
  const tally = { replayed: 0, rejected: 0, keptForLater: 0 };
  const kept = new Set<string>();
  while (tally.replayed + tally.rejected + tally.keptForLater < maxMessages) {
    const batch = (await queue.receive(10)).filter((m) => !kept.has(m.id));
    if (batch.length === 0) break;
    for (const message of batch) {
      try {
        let event: unknown;
        try {
          event = eventOf(message.body);
        } catch {
          event = undefined;
        }
        const outcome = await acceptObjectCreated(event, deps, log);
        if (outcome.status === 'rejected') {
          tally.rejected += 1;
          log.warn('dead letter rejected', { messageId: message.id, reason: outcome.reason });
        } else tally.replayed += 1;
        await queue.remove(message.receipt);
      } catch (error) {
        kept.add(message.id);
        tally.keptForLater += 1;
        log.error('dead letter failed again; kept in the queue', { messageId: message.id, error: error as Error });
      }
    }
  }
  return tally;
}
