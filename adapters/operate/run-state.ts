/**
 * What a run says about itself in its state exits, read the same way from a Step Functions execution history
 * and from the local interpreter's events: the failure notification (failed step, error, cause, re-run input),
 * the partition summary, and the newest arrival its registration made queryable.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { ExecutionInput } from '../../schemas/types.generated';

/** State names of state-machines/sluice.asl.json that the operate commands read. */
export const STATES = {
  notify: 'Publish the failure notification',
  summarize: 'Summarize the partition runs',
  // Whichever state turns the registration done: the start (all already there), the token wait (issue 13), a poll.
  registered: [
    'Check the Athena registration',
    'Register the new partitions in Athena',
    'Wait for the Athena registration',
  ],
  mapState: 'Process each partition',
} as const;

export interface StateExit {
  name: string;
  output: unknown;
}

export interface RunStateView {
  notification?: {
    failure: { step: string; error: string; cause: string };
    rerunInput: ExecutionInput | null;
  };
  summary?: { processed: number; failed: number };
  /** The failed partitions the summary lists (its first failures), `year=2024/month=01` with state and reason. */
  failedPartitions?: Array<{ partition: string; state: string; message?: string }>;
  /**
   * The newest arrival made queryable by the run: the claim's `lastArrivalAt` when the claim reports it, else its
   * `claimedAt` (every claimed object landed before it, so the freshness shown is then a lower bound). Manual
   * runs (backfill, rerun) claim no arrivals and make none newer.
   */
  newestQueryableArrivalAt?: string;
}

const record = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};

function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `*StateExited` events of an execution history, in the order given. */
export function exitsFromHistory(events: HistoryEvent[]): StateExit[] {
  return events.flatMap((e) =>
    e.type?.endsWith('StateExited') && e.stateExitedEventDetails?.name
      ? [{ name: e.stateExitedEventDetails.name, output: parseJson(e.stateExitedEventDetails.output) }]
      : [],
  );
}

export function parseRunState(history: HistoryEvent[]): RunStateView {
  return viewOfExits(exitsFromHistory(history));
}

export function viewOfExits(exits: StateExit[]): RunStateView {
  const view: RunStateView = {};
  for (const exit of exits) {
    const state = record(exit.output);
    if (exit.name === STATES.notify && !view.notification) {
      const report = record(record(state.notification).report);
      if (typeof report.failedStep === 'string')
        view.notification = {
          failure: {
            step: report.failedStep,
            error: String(report.error ?? ''),
            cause: String(report.cause ?? ''),
          },
          rerunInput: (report.rerunInput ?? null) as ExecutionInput | null,
        };
    }
    if (exit.name === STATES.summarize && !view.summary) {
      const summary = record(state.jobResults);
      if (typeof summary.succeededCount === 'number' && typeof summary.failedCount === 'number')
        view.summary = { processed: summary.succeededCount, failed: summary.failedCount };
      if (Array.isArray(summary.firstFailures) && summary.firstFailures.length > 0)
        view.failedPartitions = summary.firstFailures.map((f) => {
          const failure = record(f);
          const partition = Object.entries(record(failure.partition))
            .map(([k, v]) => `${k}=${String(v)}`)
            .join('/');
          const message = typeof failure.message === 'string' ? failure.message : undefined;
          return { partition, state: String(failure.state ?? ''), ...(message ? { message } : {}) };
        });
    }
    if ((STATES.registered as readonly string[]).includes(exit.name) && !view.newestQueryableArrivalAt) {
      const refresh = record(state.refresh);
      const debounce = record(state.debounce);
      const landed = debounce.lastArrivalAt ?? debounce.claimedAt;
      // Only a run that claimed arrivals makes a new arrival queryable; a manual run re-processes old ones.
      const claimed = Number(debounce.partitionCount) > 0;
      if (refresh.done === true && Number(refresh.partitionCount) > 0 && claimed && typeof landed === 'string')
        view.newestQueryableArrivalAt = landed;
    }
  }
  return view;
}
