/**
 * `.waitForTaskToken` for the local runner (issue 13). aws-local-stepfunctions does not simulate callbacks, so the
 * runner overrides each token Task (`arn:aws:states:::lambda:invoke.waitForTaskToken`) with `handler()`: it mints a
 * token, calls the await step with it (the same step Lambda that AWS invokes), and returns a promise that the
 * token's answer settles. Answers come from the same completion core as in AWS: the local event bus delivers the
 * stand-ins' state-change events to functions/complete-wait's step; the fallback re-checks run in simulated time.
 * The definition is not edited: `$$.Task.Token` resolves from the run's context (a placeholder the handler
 * replaces), and the state's own Retry/Catch see what they would see in AWS (SendTaskFailure's error name, or
 * States.HeartbeatTimeout when the re-check path is broken).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Deps } from '../domain/deps';
import type { WaitDeps } from '../domain/waits';
import { step as awaitCrawler } from '../functions/await-crawler';
import { step as awaitJobRun } from '../functions/await-job-run';
import { step as awaitPartitionRefresh } from '../functions/await-partition-refresh';
import { step as completeWait } from '../functions/complete-wait';
import { step as recheckWaitStep } from '../functions/recheck-wait';
import { invokeWaitStep } from '../adapters/lambda/wait-handler';
import { rootLogger } from '../adapters/lambda/step';
import { MemoryRecheckQueue, MemoryTaskTokens, MemoryWaitStore } from '../adapters/memory/waits';
import { LocalEventBus } from '../adapters/local/event-bus';
import { stateChangeSources, type StateChangeEmitter } from '../adapters/local/state-change-events';

/** aws-local-stepfunctions' JSONValue (not exported by the package). */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const WAIT_FOR_TASK_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
export const WAIT_STEPS = { awaitJobRun, awaitCrawler, awaitPartitionRefresh } as const;
export type WaitStepId = keyof typeof WAIT_STEPS;
/** What the runner puts in the run context so `$$.Task.Token` resolves; each Task gets its own token instead. */
export const TOKEN_PLACEHOLDER = 'local-token-placeholder';

/**
 * The await step a token Task invokes, from Parameters.FunctionName: the placeholder `${AwaitJobRunFunctionArn}`
 * or the local runner's bound ARN `...:function:sluice-local-AwaitJobRun` -> `awaitJobRun`.
 */
export function waitStepOf(state: { Resource?: string; Parameters?: unknown }): WaitStepId | null {
  if (state.Resource !== WAIT_FOR_TASK_TOKEN) return null;
  const functionName = String((state.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName ?? '');
  const match = /(?:^\$\{|:function:sluice-local-)([A-Z][A-Za-z]+?)(?:FunctionArn\})?$/.exec(functionName);
  const id = match ? `${match[1]?.charAt(0).toLowerCase()}${match[1]?.slice(1)}` : '';
  if (!(id in WAIT_STEPS)) throw new Error(`token Task FunctionName ${functionName} names no await step`);
  return id as WaitStepId;
}

export type AdvanceResult = 'events' | 'progress' | 'recheck' | 'heartbeat-timeout' | 'idle';

/** Wraps the await step's invocation (the runner's `intercept`: faults, counting). */
export type AwaitIntercept = (
  stepId: WaitStepId,
  input: unknown,
  stateName: string,
  invoke: () => Promise<unknown>,
) => Promise<unknown>;

interface OpenToken {
  token: string;
  stateName: string;
  fail(error: Error): void;
}

export class LocalTokenWaits {
  readonly store = new MemoryWaitStore();
  readonly tokens = new MemoryTaskTokens();
  readonly rechecks = new MemoryRecheckQueue();
  readonly bus: LocalEventBus;
  readonly counts = { awaits: 0, progress: 0, rechecks: 0, heartbeatTimeouts: 0 };
  private readonly open = new Map<string, OpenToken>();
  private minted = 0;
  /** The local Glue/crawler/Athena stand-ins among the ports, whose state-change events this run listens to. */
  private readonly standIns: StateChangeEmitter[];
  private readonly unsubscribe: Array<() => void>;

  constructor(
    private readonly deps: Deps,
    private readonly options: {
      executionArn: string;
      bus?: LocalEventBus;
      /** Moves simulated time forward (a TickingClock); re-checks happen after their delay. */
      advanceClock?: (seconds: number) => void;
      /**
       * Lets work outside the state machine advance (local jobs, crawls and queries finish and publish their
       * events); true when something happened. Runs before any re-check, so a local run polls nothing.
       */
      progress?: () => Promise<boolean>;
      /** false: the re-check path is broken (queue, Lambda or IAM), so only the heartbeat expiry is left. */
      rechecks?: boolean;
      intercept?: AwaitIntercept;
      logger?: Logger;
    },
  ) {
    this.bus = options.bus ?? new LocalEventBus();
    this.bus.subscribe((event) => invokeWaitStep(completeWait, event, this.deps, this.waitDeps, this.logger));
    // The local runtime: its stand-ins publish on this run's bus (events of other runs find no waiter here), and
    // while every Task waits on a token, the run waits for the next piece of local work to end: no polling.
    this.standIns = options.progress ? [] : stateChangeSources(deps as unknown as Record<string, unknown>);
    this.unsubscribe = this.standIns.map((standIn) =>
      standIn.onStateChange((event) => {
        try {
          this.bus.publish(event);
        } catch (error) {
          this.logger.error('local state-change event refused by the bus', { error });
        }
      }),
    );
  }

  /** Stops listening to the stand-ins (the run is over). */
  close(): void {
    for (const stop of this.unsubscribe) stop();
  }

  private async standInProgress(): Promise<boolean> {
    const busy = this.standIns.filter((standIn) => standIn.busy());
    if (busy.length === 0) return false;
    await Promise.race(busy.map((standIn) => standIn.nextEnd()));
    return true;
  }

  private get logger(): Logger {
    return this.options.logger ?? rootLogger;
  }

  get waitDeps(): WaitDeps {
    return { waits: this.store, tokens: this.tokens, rechecks: this.rechecks };
  }

  openTokens(): number {
    return this.open.size;
  }

  /** The taskResourceLocalHandler of one token Task (JSON in, the SendTaskSuccess output out). */
  handler(stepId: WaitStepId, stateName: string): (input: Json) => Promise<Json> {
    return async (input) => {
      const payload = (input as { Payload?: Record<string, unknown> } | null)?.Payload;
      if (!payload || typeof payload !== 'object') throw new Error(`${stateName}: token Task input has no Payload`);
      const token = `local:${this.options.executionArn}:${stateName}:${++this.minted}`;
      const answered = new Promise<Json>((resolve, reject) => {
        const fail = (error: Error): void => {
          this.open.delete(token);
          reject(error);
        };
        this.open.set(token, { token, stateName, fail });
        this.tokens.open(token, (answer) => {
          this.open.delete(token);
          if (answer.ok) resolve(answer.output as Json);
          else reject(Object.assign(new Error(answer.cause), { name: answer.error }));
        });
      });
      this.counts.awaits += 1;
      const awaitInput = { ...payload, taskToken: token };
      const invoke = () =>
        invokeWaitStep(
          WAIT_STEPS[stepId] as never, // the union of step types; each validates its own input
          awaitInput,
          this.deps,
          this.waitDeps,
          this.logger,
        );
      try {
        await (this.options.intercept ? this.options.intercept(stepId, awaitInput, stateName, invoke) : invoke());
      } catch (error) {
        // The await Lambda itself failed: the Task fails with its error (Retry/Catch), and the token dies with it.
        this.tokens.close(token);
        this.open.delete(token);
        answered.catch(() => undefined);
        throw error;
      }
      return answered;
    };
  }

  /**
   * What happens next in simulated time while every in-flight Task is a token wait: queued events are delivered
   * first; else the earliest re-check runs (the clock moves by its delay); else — the re-check path is broken —
   * the oldest open token's heartbeat expires, as Step Functions would do after HeartbeatSeconds.
   */
  async advance(): Promise<AdvanceResult> {
    if (this.bus.pending() > 0) {
      await this.bus.deliverAll();
      return 'events';
    }
    const progress = this.options.progress ?? (this.standIns.length > 0 ? () => this.standInProgress() : undefined);
    if (progress && (await progress())) {
      this.counts.progress += 1;
      return 'progress';
    }
    if (this.options.rechecks === false) this.rechecks.requests.length = 0;
    const requests = this.rechecks.requests;
    if (requests.length > 0 && this.open.size > 0) {
      // Every re-check due at the earliest time runs at that simulated time, side by side (as SQS would deliver
      // them): a 1,000-partition run moves the clock once per interval, not once per partition.
      const delay = Math.min(...requests.map((r) => r.delaySeconds));
      const due = requests.filter((r) => r.delaySeconds <= delay);
      const later = requests.filter((r) => r.delaySeconds > delay);
      requests.length = 0;
      for (const r of later) requests.push({ ...r, delaySeconds: r.delaySeconds - delay });
      this.options.advanceClock?.(delay);
      this.counts.rechecks += due.length;
      await Promise.all(
        due.map((request) =>
          invokeWaitStep(
            recheckWaitStep,
            { subject: request.subject, waiterId: request.waiterId },
            this.deps,
            this.waitDeps,
            this.logger,
          ),
        ),
      );
      return 'recheck';
    }
    const oldest = this.open.values().next().value as OpenToken | undefined;
    if (!oldest) return 'idle';
    this.tokens.close(oldest.token);
    this.counts.heartbeatTimeouts += 1;
    oldest.fail(
      Object.assign(new Error(`${oldest.stateName}: no heartbeat (simulated)`), { name: 'States.HeartbeatTimeout' }),
    );
    return 'heartbeat-timeout';
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs `waits.advance()` whenever the interpreter is idle, until `done` settles. Idle means: no plain Task
 * invocation in flight (`busy()`), over a few event-loop turns. Event-loop order, never wall-clock time.
 */
export async function driveTokenWaits(
  waits: LocalTokenWaits,
  done: Promise<unknown>,
  busy: () => number,
): Promise<void> {
  let finished = false;
  const settled = done.then(
    () => (finished = true),
    () => (finished = true),
  );
  while (!finished) {
    for (let i = 0; i < 5 && !finished; i++) await turn();
    if (finished || busy() > 0 || (waits.openTokens() === 0 && waits.bus.pending() === 0)) continue;
    await waits.advance();
  }
  await settled;
}
