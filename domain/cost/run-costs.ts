/**
 * The cost and time model of a run (issue 23): what a set of partitions costs in Glue, crawler, Athena and Step
 * Functions dollars, and how long it takes, for a given way of batching partitions into Glue job runs. One model,
 * used for planning (how much an automatic claim may take, how partitions are batched) and by `npm run bench:cost`.
 *
 * A model, not a measurement: its parameters are fixed here so that results compare across changes; the real
 * figures of a deployed run come from GetJobRun, ListCrawls, GetQueryExecution and the execution's transitions.
 * Prices are us-east-1 list prices:
 *   - Glue Spark jobs: $0.44 per DPU-hour (Flex $0.29), billed per second with a 1-minute minimum per job run;
 *     G.1X is 1 DPU per worker and needs at least 2 workers. https://aws.amazon.com/glue/pricing/
 *   - Glue crawlers: $0.44 per DPU-hour, billed per second with a 10-minute minimum per crawl.
 *     https://aws.amazon.com/glue/pricing/
 *   - Athena: DDL statements are free; queries cost $5 per TB scanned. https://aws.amazon.com/athena/pricing/
 *   - Step Functions Standard: $0.025 per 1,000 state transitions. https://aws.amazon.com/step-functions/pricing/
 * Model assumptions (not prices, fixed by issue 23 so that figures compare): a job run starts in 30 s and converts
 * CSV to Parquet at 25 MB/s per DPU. AWS publishes no DPU count for a crawl: the model bills one crawl as 1 DPU for
 * its 10-minute minimum; a deployed run reads the real figure from ListCrawls' CrawlerHistory.DPUHour.
 */

export const RUN_COST_MODEL = {
  glueDpuHourUsd: 0.44,
  glueFlexDpuHourUsd: 0.29,
  glueMinimumBilledSeconds: 60,
  /** G.1X: 1 DPU per worker, at least 2 workers. */
  glueMinimumDpu: 2,
  jobStartupSeconds: 30,
  bytesPerSecondPerDpu: 25 * 1_000_000,
  crawlerDpuHourUsd: 0.44,
  crawlerMinimumBilledSeconds: 600,
  crawlerDpu: 1,
  athenaUsdPerTerabyteScanned: 5,
  /** $0.025 per 1,000 (the same price as wait-costs.ts PRICE.transition; not imported: wait-costs imports the
   * waits and through them the config, which imports the claim limits, which use this model). */
  transitionUsd: 0.025 / 1000,
  /** The state machine's TimeoutSeconds (48 h). */
  executionTimeoutSeconds: 172_800,
} as const;

export type RunCostModel = typeof RUN_COST_MODEL;

/** One Glue job run's modelled duration: start-up, then the batch's bytes at the workers' combined rate. */
export function jobRunSeconds(bytes: number, dpu: number, model: RunCostModel = RUN_COST_MODEL): number {
  return model.jobStartupSeconds + bytes / (model.bytesPerSecondPerDpu * Math.max(dpu, model.glueMinimumDpu));
}

/** What Glue bills for one job run of this many seconds: per second, with the per-run minimum. */
export function jobRunDollars(
  seconds: number,
  dpu: number,
  options: { flex?: boolean } = {},
  model: RunCostModel = RUN_COST_MODEL,
): number {
  const billedSeconds = Math.max(seconds, model.glueMinimumBilledSeconds);
  const price = options.flex ? model.glueFlexDpuHourUsd : model.glueDpuHourUsd;
  return (billedSeconds * Math.max(dpu, model.glueMinimumDpu) * price) / 3600;
}

/** What one crawl bills: its DPU-hours, with the 10-minute minimum. */
export function crawlDollars(seconds: number, model: RunCostModel = RUN_COST_MODEL): number {
  return (Math.max(seconds, model.crawlerMinimumBilledSeconds) * model.crawlerDpu * model.crawlerDpuHourUsd) / 3600;
}

export function athenaScanDollars(bytesScanned: number, model: RunCostModel = RUN_COST_MODEL): number {
  return (bytesScanned / 1e12) * model.athenaUsdPerTerabyteScanned;
}

export function transitionDollars(transitions: number, model: RunCostModel = RUN_COST_MODEL): number {
  return transitions * model.transitionUsd;
}

/** Wall time of job runs of these durations with at most `concurrency` at once, started in order as slots free. */
export function wallSecondsOf(durations: readonly number[], concurrency: number): number {
  const slots = new Array<number>(Math.max(1, concurrency)).fill(0);
  for (const seconds of durations) {
    let earliest = 0;
    for (let i = 1; i < slots.length; i += 1) if (slots[i]! < slots[earliest]!) earliest = i;
    slots[earliest] = slots[earliest]! + seconds;
  }
  return Math.max(...slots);
}

export interface CostSplit {
  glue: number;
  crawler: number;
  athena: number;
  stepFunctions: number;
  total: number;
}

export function costSplit(parts: Omit<CostSplit, 'total'>): CostSplit {
  return { ...parts, total: parts.glue + parts.crawler + parts.athena + parts.stepFunctions };
}
