/**
 * What the operate commands (status, runs, backfill, rerun, logs) need from a stage. Two implementations share
 * the command code in ./commands.ts: a deployed stack (./aws-stage.ts) and the local lake's run history
 * (runtime/history.ts).
 */
import type { RunCost } from '../../domain/cost';
import type { ExecutionInput } from '../../schemas/types.generated';

export type RunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface RunRecord {
  executionArn: string;
  name: string;
  dataset: string;
  status: RunStatus;
  startedAt: string;
  stoppedAt?: string;
  /** Partitions whose job run succeeded / failed, when the run got as far as its summary. */
  partitions?: { processed: number; failed: number };
  /** From the failure notification (or the execution's own error when it died without one). */
  failure?: { step: string; error: string; cause: string };
  /** The re-run input stored in the failure notification; null when the notification names none. */
  rerunInput?: ExecutionInput | null;
  /** The partitions that failed, with the reason each gives (the summary's first failures, at most 50). */
  failedPartitions?: Array<{ partition: string; state: string; message?: string }>;
  /** A run in flight: the step it is at (and its Map's progress), where the backend knows it. */
  step?: string;
  /**
   * RowsIn/RowsOut/RowsBad of the run's partition job runs that succeeded (domain/metrics/metrics.ts), where the history
   * keeps them. in = out + bad for each of them; a failed partition writes nothing and counts in `partitions`.
   */
  rows?: { in: number; out: number; bad: number };
  /** What the run cost (issue 23 item 6): billed from AWS's figures on a stage, modelled for a local run. */
  cost?: RunCost;
}

export interface DatasetStatus {
  dataset: string;
  /** `expiresAt` where the backend knows it (the local lake's in-flight runs do not record it). */
  lease: { holder: string; since?: string; expiresAt?: string } | null;
  pending: { partitions: number; oldestArrivalAt: string } | null;
  lastRun: RunRecord | null;
  /** The newest arrival that is queryable (registered in Athena); freshness = now - this. */
  newestQueryableArrivalAt: string | null;
  /** Issue 24: the newest schema fingerprints that drifted (additive: new columns and first file; breaking). */
  schemaDrift?: string[];
}

export interface MapProgress {
  total: number;
  succeeded: number;
  failed: number;
  running: number;
  pending: number;
}

export interface ExecutionProgress {
  status: RunStatus;
  /** The Distributed Map's counts once it has started (null before, and for runs that never reach it). */
  map: MapProgress | null;
}

export interface LogLine {
  timestamp: string;
  source: string;
  /** The structured line as logged (Powertools JSON), or the raw text. */
  message: Record<string, unknown> | string;
}

export interface RunQuery {
  dataset?: string;
  failedOnly?: boolean;
  limit: number;
}

export interface StageBackend {
  /** e.g. `stage prod (stack sluice-prod, eu-west-1)` or `local lake .sluice/lake`. */
  readonly label: string;
  status(now: Date): Promise<DatasetStatus[]>;
  /** Newest first. */
  runs(query: RunQuery): Promise<RunRecord[]>;
  run(executionArn: string): Promise<RunRecord>;
  /** Starts one execution; `kind` names it (`<dataset>-backfill-...`, `<dataset>-rerun-...`). */
  start(input: ExecutionInput, kind: 'backfill' | 'rerun'): Promise<string>;
  progress(executionArn: string): Promise<ExecutionProgress>;
  logs(executionArn: string): Promise<LogLine[]>;
  close?(): void | Promise<void>;
}

/** A user-facing failure: printed as `sluice: <message>` with exit code 1, no stack trace. */
export class OperateError extends Error {
  override name = 'OperateError';
}
