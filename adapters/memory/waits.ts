/**
 * In-memory wait store, token sender and re-check queue: the same contract as the DynamoDB/SFN/SQS adapters, for
 * one process (the local runtime and the tests). The local runner hands `tokens` the callbacks that resume its
 * `.waitForTaskToken` Tasks.
 */
import type { Delivery } from '../../schemas/types.generated';
import type { RecheckQueue, SendOutcome, TaskTokenSender, WaitRecord, WaitStore } from '../../domain/waits';

export class MemoryWaitStore implements WaitStore {
  private readonly bySubject = new Map<string, Map<string, WaitRecord>>();

  async recordWait(record: Omit<WaitRecord, 'subject' | 'sentAt' | 'delivery'>): Promise<void> {
    for (const subject of record.subjects) {
      const waiters = this.bySubject.get(subject) ?? new Map<string, WaitRecord>();
      waiters.set(record.waiterId, structuredClone({ ...record, subject }));
      this.bySubject.set(subject, waiters);
    }
  }

  async waitersOf(subject: string): Promise<WaitRecord[]> {
    return [...(this.bySubject.get(subject)?.values() ?? [])].map((r) => structuredClone(r));
  }

  async waiter(subject: string, waiterId: string): Promise<WaitRecord | null> {
    const record = this.bySubject.get(subject)?.get(waiterId);
    return record ? structuredClone(record) : null;
  }

  async markSent(record: WaitRecord, delivery: Delivery, now: Date): Promise<void> {
    for (const subject of record.subjects) {
      const stored = this.bySubject.get(subject)?.get(record.waiterId);
      if (stored && stored.taskToken === record.taskToken)
        Object.assign(stored, { sentAt: now.toISOString(), delivery });
    }
  }

  private readonly finals = new Map<string, Set<string>>();

  async markFinal(record: WaitRecord, subject: string): Promise<string[]> {
    const set = this.finals.get(record.waiterId) ?? new Set<string>();
    set.add(subject);
    this.finals.set(record.waiterId, set);
    return [...set];
  }

  async finalSubjects(record: WaitRecord): Promise<string[]> {
    return [...(this.finals.get(record.waiterId) ?? [])];
  }
}

export type TokenAnswer = { ok: true; output: unknown } | { ok: false; error: string; cause: string };

/**
 * Answers tokens the way Step Functions does: the first answer closes the token, a later one is TaskTimedOut,
 * an unknown token is InvalidToken. `open` registers a token (the local runner does it when a Task starts).
 */
export class MemoryTaskTokens implements TaskTokenSender {
  private readonly waiting = new Map<string, (answer: TokenAnswer) => void>();
  private readonly closed = new Set<string>();
  readonly answers: Array<{ taskToken: string; answer: TokenAnswer; outcome: SendOutcome }> = [];

  open(taskToken: string, resume: (answer: TokenAnswer) => void): void {
    this.waiting.set(taskToken, resume);
  }

  /** The Task ended another way (its timeout): later answers are refused like TaskTimedOut. */
  close(taskToken: string): void {
    this.waiting.delete(taskToken);
    this.closed.add(taskToken);
  }

  private answer(taskToken: string, answer: TokenAnswer): SendOutcome {
    const resume = this.waiting.get(taskToken);
    const outcome: SendOutcome = resume ? 'sent' : this.closed.has(taskToken) ? 'token-closed' : 'token-invalid';
    if (resume) {
      this.close(taskToken);
      resume(answer);
    }
    this.answers.push({ taskToken, answer, outcome });
    return outcome;
  }

  async succeed(taskToken: string, output: unknown): Promise<SendOutcome> {
    return this.answer(taskToken, { ok: true, output: structuredClone(output) });
  }

  async fail(taskToken: string, error: string, cause: string): Promise<SendOutcome> {
    return this.answer(taskToken, { ok: false, error, cause });
  }

  readonly heartbeats: string[] = [];
  async heartbeat(taskToken: string): Promise<SendOutcome> {
    const outcome: SendOutcome = this.waiting.has(taskToken)
      ? 'sent'
      : this.closed.has(taskToken)
        ? 'token-closed'
        : 'token-invalid';
    if (outcome === 'sent') this.heartbeats.push(taskToken);
    return outcome;
  }
}

/** Collects re-check requests; the local runtime (or a test) decides when to deliver them. */
export class MemoryRecheckQueue implements RecheckQueue {
  readonly requests: Array<{ subject: string; waiterId: string; delaySeconds: number }> = [];
  async recheckLater(message: { subject: string; waiterId: string }, delaySeconds: number): Promise<void> {
    this.requests.push({ ...message, delaySeconds });
  }
  /** Removes and returns every request made so far. */
  drain(): Array<{ subject: string; waiterId: string; delaySeconds: number }> {
    return this.requests.splice(0, this.requests.length);
  }
}
