/**
 * Ports of the event-completed waits (issue 13). Kept apart from domain/common/ports.ts so the waits can be built and
 * tested while that shared file is being changed by others; `WaitDeps` is what the wait cores need on top of Deps.
 */
import type {
  CheckCrawlerInput,
  CheckJobRunInput,
  CheckPartitionRefreshInput,
  Delivery,
} from '../../schemas/types.generated';

/** What a wait is for, and the Check step input that decides whether it is over. */
export type WaitCheck =
  | { kind: 'job'; input: CheckJobRunInput }
  | { kind: 'crawler'; input: CheckCrawlerInput }
  | { kind: 'refresh'; input: CheckPartitionRefreshInput };

export type WaitKind = WaitCheck['kind'];

/**
 * One task token waiting on one subject. A subject is what an event names: `job#<jobName>#<runId>`,
 * `crawler#<crawlerName>` or `query#<queryExecutionId>`. A waiter is one Task of one execution; a new await by the
 * same waiter (after a fallback timeout) replaces its token.
 */
export interface WaitRecord {
  subject: string;
  waiterId: string;
  taskToken: string;
  check: WaitCheck;
  /** Every subject this waiter is recorded under (a partition refresh waits on all its queries). */
  subjects: string[];
  recordedAt: string;
  /** Set once SendTaskSuccess/Failure for `taskToken` has been answered (accepted or refused as closed). */
  sentAt?: string;
  delivery?: Delivery;
}

export interface WaitStore {
  /** Writes (or replaces, for the same waiter) the token under each of its subjects. Idempotent. */
  recordWait(record: Omit<WaitRecord, 'subject' | 'sentAt' | 'delivery'>, now: Date): Promise<void>;
  /** Every waiter recorded under `subject`, read consistently (a token written before this call is seen). */
  waitersOf(subject: string): Promise<WaitRecord[]>;
  waiter(subject: string, waiterId: string): Promise<WaitRecord | null>;
  /**
   * Marks `taskToken` answered under every subject of the waiter. Only if the stored token is still `taskToken`:
   * a waiter that re-awaited meanwhile holds a new token that is still open.
   */
  markSent(record: WaitRecord, delivery: Delivery, now: Date): Promise<void>;
  /**
   * Issue 23: adds `subject` to the subjects of the waiter whose work was seen final, and returns all of them, in
   * one atomic write. Of two deliveries that each saw one subject end, the second write returns both.
   */
  markFinal(record: WaitRecord, subject: string, now: Date): Promise<string[]>;
  /** The subjects of the waiter seen final so far. */
  finalSubjects(record: WaitRecord): Promise<string[]>;
}

export type SendOutcome = Extract<Delivery, 'sent' | 'token-closed' | 'token-invalid' | 'task-missing'>;

/**
 * SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat. Refusals that mean "this task is over" are outcomes, not
 * exceptions. The heartbeat is the fallback re-check saying "still watching": the Task's HeartbeatSeconds expires
 * only when the re-check path itself is broken, and then the ASL runs one Check.
 */
export interface TaskTokenSender {
  succeed(taskToken: string, output: unknown): Promise<SendOutcome>;
  fail(taskToken: string, error: string, cause: string): Promise<SendOutcome>;
  heartbeat(taskToken: string): Promise<SendOutcome>;
}

/** The fallback poll outside the state machine: ask for one waiter to be checked again after `delaySeconds`. */
export interface RecheckQueue {
  recheckLater(message: { subject: string; waiterId: string }, delaySeconds: number): Promise<void>;
}

export interface WaitDeps {
  waits: WaitStore;
  tokens: TaskTokenSender;
  rechecks: RecheckQueue;
}
