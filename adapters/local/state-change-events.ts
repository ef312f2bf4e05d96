/**
 * The three AWS state-change events in AWS's shapes (schemas/waits.schema.json), for the local stand-ins to publish
 * on the local bus when a job run, crawl or query reaches a final state, and for tests. Field names and state
 * spellings follow AWS: Glue job states upper case (SUCCEEDED, FAILED, TIMEOUT, STOPPED), crawler states
 * capitalised (Started, Succeeded, Failed), Athena `currentState`/`previousState`.
 * Sources: https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html,
 * https://docs.aws.amazon.com/athena/latest/ug/athena-events.html
 */
import type {
  AthenaQueryStateChangeEvent,
  GlueCrawlerStateChangeEvent,
  GlueJobStateChangeEvent,
} from '../../schemas/types.generated';

export function glueJobStateChange(
  jobName: string,
  jobRunId: string,
  state: string,
  time = new Date(),
): GlueJobStateChangeEvent {
  return {
    source: 'aws.glue',
    'detail-type': 'Glue Job State Change',
    time: time.toISOString(),
    detail: {
      jobName,
      jobRunId,
      state,
      severity: state === 'SUCCEEDED' ? 'INFO' : 'ERROR',
      message: `Job run ${state.toLowerCase()}`,
    },
  };
}

export function glueCrawlerStateChange(
  crawlerName: string,
  state: 'Started' | 'Succeeded' | 'Failed',
  time = new Date(),
  errorMessage?: string,
): GlueCrawlerStateChangeEvent {
  return {
    source: 'aws.glue',
    'detail-type': 'Glue Crawler State Change',
    time: time.toISOString(),
    detail: { crawlerName, state, message: `Crawler ${state}`, ...(errorMessage ? { errorMessage } : {}) },
  };
}

export function athenaQueryStateChange(
  queryExecutionId: string,
  currentState: string,
  previousState: string,
  workgroupName: string,
  time = new Date(),
): AthenaQueryStateChangeEvent {
  return {
    source: 'aws.athena',
    'detail-type': 'Athena Query State Change',
    time: time.toISOString(),
    detail: { queryExecutionId, currentState, previousState, workgroupName, statementType: 'DDL', versionId: '0' },
  };
}

/**
 * How a local stand-in (adapters/local/glue.ts, athena.ts) announces that its work reached a final state, the way
 * Glue and Athena put their state-change events on EventBridge: `track` the work, and when it settles the
 * stand-in's event (built then, from the final state) goes to every listener. The local runner listens with the run's
 * event bus, and while every Task waits on a token it waits for `nextEnd()` instead of polling.
 */
export class StateChangeEmitter {
  private readonly listeners = new Set<(event: unknown) => void>();
  private readonly inFlight = new Set<Promise<void>>();

  /** Adds a listener; returns its removal. */
  onStateChange(listener: (event: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `finalEvent` is built when `work` settles (either way) and published to the listeners. */
  track(work: Promise<unknown>, finalEvent: () => unknown): void {
    const done: Promise<void> = work.then(
      () => this.settle(done, finalEvent),
      () => this.settle(done, finalEvent),
    );
    this.inFlight.add(done);
  }

  private settle(done: Promise<void>, finalEvent: () => unknown): void {
    this.inFlight.delete(done);
    const event = finalEvent();
    for (const listener of this.listeners) listener(event);
  }

  busy(): boolean {
    return this.inFlight.size > 0;
  }

  /** Resolves when the next piece of tracked work has ended and its event is published. */
  async nextEnd(): Promise<void> {
    await Promise.race(this.inFlight);
  }
}

/** The stand-ins of a Deps that announce their state changes (in-memory test fakes do not). */
export function stateChangeSources(ports: Record<string, unknown>): StateChangeEmitter[] {
  return Object.values(ports)
    .map((port) => (port as { stateChanges?: unknown } | null)?.stateChanges)
    .filter((emitter): emitter is StateChangeEmitter => emitter instanceof StateChangeEmitter);
}
