/**
 * The operating metrics of sluice: one definition of each (name, unit, meaning), and pure functions that derive
 * them from what a step already has in hand (its input and output, or the intake's outcome). The Lambda wrapper
 * turns them into CloudWatch embedded-metric-format lines (adapters/lambda/step.ts); the dashboard and the
 * freshness alarm (deploy/observability.ts) and the local history read the same names.
 * Namespace `sluice`, dimensions `stage` and `dataset` (exactly these two: CloudWatch identifies a metric by its
 * full dimension set, so the dashboard and alarms must use the same set).
 */
import type { JobRowCounts } from '../../schemas/types.generated';

export const METRICS_NAMESPACE = 'sluice';
export const METRIC_DIMENSIONS = ['stage', 'dataset'] as const;

export type MetricUnitName = 'Count' | 'Seconds' | 'None';

export const METRICS = {
  RunsStarted: { unit: 'Count', help: 'executions that passed their first step' },
  RunsSucceeded: { unit: 'Count', help: 'executions that released their lease after success' },
  RunsFailed: { unit: 'Count', help: 'executions that reached the failure notification' },
  PartitionsProcessed: { unit: 'Count', help: 'partition job runs that succeeded' },
  PartitionsFailed: { unit: 'Count', help: 'partition job runs that failed' },
  RowsIn: { unit: 'Count', help: 'rows read by a partition job run that succeeded (from its row summary)' },
  RowsOut: { unit: 'Count', help: 'rows it wrote to the curated zone' },
  RowsBad: { unit: 'Count', help: 'rows it kept in a rejects file' },
  ArrivalsAccepted: { unit: 'Count', help: 'new object events recorded by the intake' },
  ArrivalsDuplicate: { unit: 'Count', help: 'object events seen before (add nothing)' },
  ArrivalsRejected: { unit: 'Count', help: 'object events refused with a reason' },
  PartitionsQueryable: { unit: 'Count', help: 'partitions registered in Athena (queryable) by a run' },
  LandingToQueryable: { unit: 'Seconds', help: 'newest claimed arrival -> its partition registered in Athena' },
  DebounceWait: { unit: 'Seconds', help: 'first pending arrival -> claim' },
  JobDuration: { unit: 'Seconds', help: 'one partition job run, start to end' },
  RunCostUSD: {
    unit: 'None',
    help: 'dollars one run cost (Glue + crawler + Athena + Step Functions; domain/cost/run-cost-report.ts), emitted where the run reports its cost',
  },
  NewestQueryableArrival: {
    unit: 'None',
    help: 'epoch seconds of the newest arrival that became queryable; freshness = now - this',
  },
} as const satisfies Record<string, { unit: MetricUnitName; help: string }>;

export type MetricName = keyof typeof METRICS;

export interface MetricPoint {
  name: MetricName;
  value: number;
  dataset: string;
}

/** The dimension value for events that name no dataset (a rejected key outside every dataset). */
export const NO_DATASET = 'none';

const seconds = (fromIso: unknown, to: Date): number | undefined => {
  if (typeof fromIso !== 'string') return undefined;
  const from = Date.parse(fromIso);
  if (Number.isNaN(from)) return undefined;
  return Math.max(0, (to.getTime() - from) / 1000);
};

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};

const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;

/** One metric point, or none when the value is unknown. */
export function point(name: MetricName, value: number | undefined, dataset: string): MetricPoint[] {
  return value === undefined ? [] : [{ name, value, dataset }];
}

/**
 * The rows of one job run that SUCCEEDED, from its row summary (domain/rows/job-summary.ts). Not derived from step
 * outputs: the job-run cores record them through `deps.metrics` when they read the summary, so they are emitted
 * wherever the run is seen to end (a poll, a completion event, the local runner) and once per job run.
 */
export function jobRowMetrics(dataset: string, rows: JobRowCounts): MetricPoint[] {
  return [
    { name: 'RowsIn', value: rows.in, dataset },
    { name: 'RowsOut', value: rows.out, dataset },
    { name: 'RowsBad', value: rows.bad, dataset },
  ];
}

/**
 * At the run's end (the release step gets the whole run state): when its registration made partitions queryable,
 * the latency from the newest claimed arrival to now, and that arrival's time (freshness = now - it). Needs the
 * claim's `lastArrivalAt`; manual runs claim no arrivals and emit neither.
 */
function freshnessPoints(state: Record<string, unknown>, dataset: string, now: Date): MetricPoint[] {
  const refresh = record(state.refresh);
  if (refresh.done !== true || !count(refresh.partitionCount)) return [];
  const landedAt = record(state.debounce).lastArrivalAt;
  const latency = seconds(landedAt, now);
  if (latency === undefined) return [];
  return [
    { name: 'LandingToQueryable', value: latency, dataset },
    { name: 'NewestQueryableArrival', value: Math.floor(Date.parse(String(landedAt)) / 1000), dataset },
  ];
}

/**
 * The metrics one step's input and output imply. Reads defensively: a metric whose source field is absent is
 * not emitted (never a made-up zero), and deriving metrics can never fail a step.
 */
export function stepMetrics(stepId: string, input: unknown, output: unknown, now: Date): MetricPoint[] {
  const inp = record(input);
  const out = record(output);
  const run = record(out.run);
  const dataset = String(inp.dataset ?? run.dataset ?? '') || NO_DATASET;
  switch (stepId) {
    case 'prepareRun':
      return point('RunsStarted', 1, dataset);
    case 'claimArrivals':
      // Debounce wait: from the first pending arrival to the claim, when the claim reports that arrival.
      return out.settled === true && count(out.partitionCount)
        ? point('DebounceWait', seconds(out.firstArrivalAt, new Date(String(out.claimedAt))), dataset)
        : [];
    case 'startJobRun':
    case 'checkJobRun': {
      const job = record(out);
      if (job.done !== true) return [];
      return point('JobDuration', seconds(job.startedAt, now), dataset);
    }
    case 'summarizeJobRuns':
      return [
        ...point('PartitionsProcessed', count(out.succeededCount), dataset),
        ...point('PartitionsFailed', count(out.failedCount), dataset),
      ];
    case 'checkPartitionRefresh':
    case 'startPartitionRefresh':
      return out.done === true && count(out.partitionCount)
        ? point('PartitionsQueryable', count(out.partitionCount), dataset)
        : [];
    case 'notifyFailure': {
      const failedDataset = String(record(out.report).dataset ?? dataset) || NO_DATASET;
      return [...point('RunsFailed', 1, failedDataset), ...runCostPoints(record(out.report).cost, failedDataset)];
    }
    case 'releaseLease':
      return [
        ...(inp.outcome === 'succeeded' ? point('RunsSucceeded', 1, dataset) : []),
        ...freshnessPoints(record(inp.state), dataset, now),
      ];
    default:
      return [];
  }
}

/** RunCostUSD from a run's cost report (domain/cost/run-cost-report.ts RunCost), when the step has one. */
export function runCostPoints(cost: unknown, dataset: string): MetricPoint[] {
  return point('RunCostUSD', count(record(cost).total), dataset);
}

export interface MetricsPort {
  record(points: MetricPoint[], executionArn: string): void;
}
