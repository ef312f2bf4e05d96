/**
 * The cost of one run, reported (issue 23 item 6): Glue, crawler, Athena and Step Functions dollars, from what AWS
 * bills for a deployed run, or from the cost model (domain/cost/run-costs.ts, the one source of prices) for a local run.
 * Pure: the AWS calls that gather the figures are in adapters/operate/run-cost.ts.
 *
 * What each part is computed from, and the AWS fields it reads:
 * - Glue: each job run's `DPUSeconds` when Glue reports it (Flex and Auto Scaling runs: "the total time each
 *   executor ran ... multiplied by a DPU factor", https://docs.aws.amazon.com/glue/latest/webapi/API_JobRun.html),
 *   else `ExecutionTime` ("the amount of time (in seconds) that the job run consumed resources") × its capacity
 *   (`NumberOfWorkers` × the worker type's DPU, else `MaxCapacity`), with the 1-minute minimum per run and the price
 *   of its `ExecutionClass` (STANDARD or FLEX), https://aws.amazon.com/glue/pricing/.
 * - Crawler: each crawl's `DPUHour` (ListCrawls' CrawlerHistory,
 *   https://docs.aws.amazon.com/glue/latest/webapi/API_CrawlerHistory.html), at least the 10-minute minimum at the
 *   model's crawler DPU; a crawl without DPUHour is billed by its duration at that DPU.
 * - Athena: `Statistics.DataScannedInBytes` of each query (GetQueryExecution / BatchGetQueryExecution,
 *   https://docs.aws.amazon.com/athena/latest/APIReference/API_QueryExecutionStatistics.html) at $5/TB. sluice's
 *   registration is DDL, which is free, so this is usually 0.
 * - Step Functions: the transitions, $0.025 per 1,000. A Distributed Map bills one transition per child workflow
 *   execution it starts, and each STANDARD child bills its own transitions
 *   (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html).
 */
import type { RunCostReport } from '../../schemas/types.generated';
import { RUN_COST_MODEL, athenaScanDollars, costSplit, jobRunDollars, transitionDollars } from './run-costs';

/** `billed`: from AWS's own figures for the run; `modelled`: the cost model's figure (local runs). */
export type CostBasis = 'billed' | 'modelled';

/** A run's cost: the parts, their total, its basis and what was counted (schemas: RunCostReport). */
export type RunCost = RunCostReport;

/** DPU per worker by Glue worker type (https://docs.aws.amazon.com/glue/latest/dg/worker-types.html). */
export const DPU_PER_WORKER: Readonly<Record<string, number>> = {
  'G.025X': 0.25,
  'G.1X': 1,
  'G.2X': 2,
  'G.4X': 4,
  'G.8X': 8,
  'G.12X': 12,
  'G.16X': 16,
  'R.1X': 1,
  'R.2X': 2,
  'R.4X': 4,
  'R.8X': 8,
  Standard: 1,
};

/** The fields of a Glue JobRun (GetJobRun / GetJobRuns) that its cost is computed from. */
export interface BilledJobRun {
  DPUSeconds?: number;
  ExecutionTime?: number;
  MaxCapacity?: number;
  NumberOfWorkers?: number;
  WorkerType?: string;
  ExecutionClass?: string;
}

/** A job run's DPUs: its workers × the worker type's DPU, else its MaxCapacity, else the model's minimum. */
export function jobRunCapacity(run: BilledJobRun): number {
  const perWorker = run.WorkerType ? DPU_PER_WORKER[run.WorkerType] : undefined;
  if (run.NumberOfWorkers !== undefined && perWorker !== undefined) return run.NumberOfWorkers * perWorker;
  return run.MaxCapacity ?? RUN_COST_MODEL.glueMinimumDpu;
}

/** What Glue bills for one run: DPUSeconds when reported, else ExecutionTime × capacity; 1-minute minimum. */
export function billedJobRunDollars(run: BilledJobRun): number {
  const flex = run.ExecutionClass === 'FLEX';
  const price = flex ? RUN_COST_MODEL.glueFlexDpuHourUsd : RUN_COST_MODEL.glueDpuHourUsd;
  const capacity = jobRunCapacity(run);
  const minimumDpuSeconds = RUN_COST_MODEL.glueMinimumBilledSeconds * capacity;
  if (run.DPUSeconds !== undefined) return (Math.max(run.DPUSeconds, minimumDpuSeconds) * price) / 3600;
  // jobRunDollars applies the model's 2-DPU floor too; a run's own capacity is what it was billed at.
  return (Math.max(run.ExecutionTime ?? 0, RUN_COST_MODEL.glueMinimumBilledSeconds) * capacity * price) / 3600;
}

/** One crawl as ListCrawls reports it. */
export interface BilledCrawl {
  DPUHour?: number;
  StartTime?: Date;
  EndTime?: Date;
}

/** What one crawl bills: its DPU-hours, at least the 10-minute minimum at the model's crawler DPU. */
export function billedCrawlDollars(crawl: BilledCrawl): number {
  const minimum = (RUN_COST_MODEL.crawlerMinimumBilledSeconds * RUN_COST_MODEL.crawlerDpu) / 3600;
  const measured =
    crawl.DPUHour ??
    (crawl.StartTime && crawl.EndTime
      ? (Math.max(0, crawl.EndTime.getTime() - crawl.StartTime.getTime()) / 1000 / 3600) * RUN_COST_MODEL.crawlerDpu
      : 0);
  return Math.max(measured, minimum) * RUN_COST_MODEL.crawlerDpuHourUsd;
}

export interface BilledRunFigures {
  jobRuns: BilledJobRun[];
  crawls: BilledCrawl[];
  /** DataScannedInBytes of each of the run's queries. */
  scannedBytes: number[];
  transitions: number;
  notes?: string[];
}

/** A deployed run's cost from AWS's figures. */
export function billedRunCost(figures: BilledRunFigures): RunCost {
  const split = costSplit({
    glue: figures.jobRuns.reduce((sum, r) => sum + billedJobRunDollars(r), 0),
    crawler: figures.crawls.reduce((sum, c) => sum + billedCrawlDollars(c), 0),
    athena: figures.scannedBytes.reduce((sum, b) => sum + athenaScanDollars(b), 0),
    stepFunctions: transitionDollars(figures.transitions),
  });
  return {
    ...split,
    basis: 'billed',
    counts: {
      jobRuns: figures.jobRuns.length,
      crawls: figures.crawls.length,
      queries: figures.scannedBytes.length,
      transitions: figures.transitions,
    },
    ...(figures.notes?.length ? { notes: figures.notes } : {}),
  };
}

export interface ModelledRunFigures {
  /** Each job run's input bytes, when known (0: the run is billed at the minimum). */
  jobRunBytes: number[];
  dpu: number;
  crawls: number;
  transitions: number;
}

/**
 * A local run's cost under the model: each job run its start-up plus its bytes at the model's rate, billed with the
 * minimum; each crawl its 10-minute minimum; DDL free; the transitions the local interpreter counted.
 */
export function modelledRunCost(figures: ModelledRunFigures): RunCost {
  const runSeconds = (bytes: number) =>
    RUN_COST_MODEL.jobStartupSeconds +
    bytes / (RUN_COST_MODEL.bytesPerSecondPerDpu * Math.max(figures.dpu, RUN_COST_MODEL.glueMinimumDpu));
  const crawl =
    (RUN_COST_MODEL.crawlerMinimumBilledSeconds * RUN_COST_MODEL.crawlerDpu * RUN_COST_MODEL.crawlerDpuHourUsd) / 3600;
  const split = costSplit({
    glue: figures.jobRunBytes.reduce((sum, bytes) => sum + jobRunDollars(runSeconds(bytes), figures.dpu), 0),
    crawler: figures.crawls * crawl,
    athena: 0,
    stepFunctions: transitionDollars(figures.transitions),
  });
  return {
    ...split,
    basis: 'modelled',
    counts: {
      jobRuns: figures.jobRunBytes.length,
      crawls: figures.crawls,
      queries: 0,
      transitions: figures.transitions,
    },
  };
}

/** Dollars as people read them: cents for a dollar or more, four decimals below (a job run's minimum is $0.0147). */
export function formatDollars(value: number): string {
  return value >= 1 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`;
}

/** `$0.0883 (glue $0.0147, crawler $0.0733, athena $0.0000, step functions $0.0003)`, `, modelled` when modelled. */
export function formatRunCost(cost: RunCost): string {
  return (
    `${formatDollars(cost.total)} (glue ${formatDollars(cost.glue)}, crawler ${formatDollars(cost.crawler)}, ` +
    `athena ${formatDollars(cost.athena)}, step functions ${formatDollars(cost.stepFunctions)}` +
    `${cost.basis === 'modelled' ? '; modelled' : ''})`
  );
}

/** The short form for tables: `$0.0883` or `$0.0883 (modelled)`. */
export function formatRunCostShort(cost: RunCost): string {
  return `${formatDollars(cost.total)}${cost.basis === 'modelled' ? ' (modelled)' : ''}`;
}

export interface RunCostPort {
  costOf(executionArn: string, dataset: string): Promise<RunCostReport>;
}
