/**
 * Batch planning (issue 23): which partitions each Glue job run converts, sized by input bytes and count with the
 * cost and time model (domain/cost/run-costs.ts). A pure function of the partitions' sizes and the dataset's job settings.
 *
 * `partitionsPerRun: N`: consecutive runs of N partitions (1 is one job run per partition, the plan before batching).
 * `partitionsPerRun: "auto"` chooses the number of batches B, then cuts the partitions, in order, into B consecutive
 * batches of about equal modelled work:
 *   - Worth a start-up: each run has at least MIN_WORK_SECONDS of conversion (120 s: the 30 s start-up is at most a
 *     fifth of a run, and a run bills at least 150 s, 2.5 times Glue's 1-minute minimum), so no run pays a minimum
 *     for a few seconds of work.
 *   - Use the concurrency: up to maxConcurrentRuns batches when there is that much work, so a day's partitions run
 *     side by side as they do one per run.
 *   - Well below the job timeout: a run's modelled time stays under TIMEOUT_SHARE (a quarter) of timeoutMinutes, so
 *     a run four times slower than the model (skew, small files, a slow worker) still finishes.
 *   - At most MAX_PARTITIONS_PER_RUN partitions a run: a run that dies (out of memory, a lost executor) fails all of
 *     its partitions, so its blast radius is bounded, and the batch and result files stay small.
 *   - Beyond maxConcurrentRuns batches, a multiple of it: full waves, so the last wave is not one straggler.
 *   - Never slower than one run per partition: if the modelled wall time of the plan is longer than that of the
 *     one-per-partition plan (few, tiny partitions), more batches are tried, up to the one-per-partition plan.
 * The model has no per-partition cost inside a run (listing, schema, a Spark job or three per partition): the issue
 * fixes the model's parameters so that results compare; docs/batches.md says what that leaves out.
 */
import type { ResolvedConfig, ResolvedDataset } from '../config';
import { jobRunDollars, jobRunSeconds, RUN_COST_MODEL, wallSecondsOf, type RunCostModel } from './run-costs';

export const MIN_WORK_SECONDS = 120;
export const TIMEOUT_SHARE = 0.25;
export const MAX_PARTITIONS_PER_RUN = 1000;

export interface SizedPartition {
  /** Input bytes (the sum of the partition's raw objects, as the arrivals recorded them). */
  bytes: number;
}

export interface BatchPlanOptions {
  partitionsPerRun: 'auto' | number;
  maxConcurrentRuns: number;
  /** The job's timeout (job.timeoutMinutes). */
  timeoutMinutes: number;
  /** DPU of one job run (G.1X: 1 per worker; at least 2). */
  dpu: number;
}

/** What a plan costs and takes under the model. */
export interface ModelledPlan {
  jobRuns: number;
  glueDollars: number;
  wallSeconds: number;
  longestRunSeconds: number;
}

/**
 * DPU per worker of the Glue worker types sluice offers: G.1X 1 DPU (4 vCPU, 16 GB), G.2X 2, G.4X 4, G.8X 8
 * (https://docs.aws.amazon.com/glue/latest/dg/worker-types.html).
 */
const DPU_PER_WORKER: Record<string, number> = { 'G.1X': 1, 'G.2X': 2, 'G.4X': 4, 'G.8X': 8 };

/** The planning options of a dataset: its job settings and the stage's workers (deploy.glueWorkerType/glueWorkers). */
export function batchPlanOptions(config: Pick<ResolvedConfig, 'deploy'>, dataset: ResolvedDataset): BatchPlanOptions {
  const perWorker = DPU_PER_WORKER[config.deploy.glueWorkerType];
  if (perWorker === undefined) throw new RangeError(`glueWorkerType ${config.deploy.glueWorkerType} has no DPU figure`);
  return {
    partitionsPerRun: dataset.job.partitionsPerRun,
    maxConcurrentRuns: dataset.job.maxConcurrentRuns,
    timeoutMinutes: dataset.job.timeoutMinutes,
    dpu: perWorker * config.deploy.glueWorkers,
  };
}

/** The partitions, in their order, cut into the batches of one job run each. */
export function planJobBatches<T extends SizedPartition>(
  partitions: readonly T[],
  options: BatchPlanOptions,
  model: RunCostModel = RUN_COST_MODEL,
): T[][] {
  assertOptions(options);
  if (partitions.length === 0) return [];
  if (options.partitionsPerRun !== 'auto') return chunks(partitions, options.partitionsPerRun);
  const n = partitions.length;
  const concurrency = options.maxConcurrentRuns;
  const works = partitions.map((p) => workSeconds(p.bytes, options.dpu, model));
  const total = works.reduce((sum, w) => sum + w, 0);
  const maxWork = options.timeoutMinutes * 60 * TIMEOUT_SHARE - model.jobStartupSeconds;
  // A timeout too short for a start-up and some work: nothing to gain by batching.
  if (maxWork <= 0) return chunks(partitions, 1);
  const byParallel = Math.min(n, concurrency, Math.max(1, Math.floor(total / MIN_WORK_SECONDS)));
  const byTime = Math.ceil(total / maxWork);
  const byCount = Math.ceil(n / MAX_PARTITIONS_PER_RUN);
  let count = Math.max(byParallel, byTime, byCount);
  if (count > concurrency) count = Math.ceil(count / concurrency) * concurrency;
  count = Math.min(count, n);
  const baseline = modelPlan(chunks(partitions, 1), options, model).wallSeconds;
  // A few more batches fix the rare plan that is slower (few, tiny partitions); failing that, one per partition.
  for (let tries = 0; tries < GUARD_TRIES && count <= n; tries += 1, count += 1) {
    const plan = bounded(cut(partitions, works, count), options, model, maxWork);
    if (modelPlan(plan, options, model).wallSeconds <= baseline) return plan;
  }
  return chunks(partitions, 1);
}

const GUARD_TRIES = 64;

/** The model's figures for a plan: job runs, Glue dollars, wall time under the concurrency, the longest run. */
export function modelPlan(
  batches: ReadonlyArray<readonly SizedPartition[]>,
  options: Pick<BatchPlanOptions, 'maxConcurrentRuns' | 'dpu'>,
  model: RunCostModel = RUN_COST_MODEL,
): ModelledPlan {
  const durations = batches.map((batch) =>
    jobRunSeconds(
      batch.reduce((sum, p) => sum + p.bytes, 0),
      options.dpu,
      model,
    ),
  );
  return {
    jobRuns: batches.length,
    glueDollars: durations.reduce((sum, seconds) => sum + jobRunDollars(seconds, options.dpu, {}, model), 0),
    wallSeconds: durations.length === 0 ? 0 : wallSecondsOf(durations, options.maxConcurrentRuns),
    longestRunSeconds: Math.max(0, ...durations),
  };
}

function workSeconds(bytes: number, dpu: number, model: RunCostModel): number {
  return jobRunSeconds(bytes, dpu, model) - model.jobStartupSeconds;
}

function assertOptions(options: BatchPlanOptions): void {
  const { partitionsPerRun: perRun, maxConcurrentRuns, timeoutMinutes, dpu } = options;
  if (perRun !== 'auto' && !(Number.isInteger(perRun) && perRun >= 1))
    throw new RangeError(`partitionsPerRun ${JSON.stringify(perRun)} is not "auto" or a whole number from 1`);
  if (!(Number.isInteger(maxConcurrentRuns) && maxConcurrentRuns >= 1))
    throw new RangeError(`maxConcurrentRuns ${maxConcurrentRuns} is not a whole number from 1`);
  if (!(timeoutMinutes > 0)) throw new RangeError(`timeoutMinutes ${timeoutMinutes} is not positive`);
  if (!(dpu > 0)) throw new RangeError(`dpu ${dpu} is not positive`);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * `count` consecutive batches of about equal work: each partition goes to the batch its work's midpoint falls in,
 * so batches stay in order and none is cut inside a partition. Without sizes (all zero), equal counts.
 */
function cut<T>(partitions: readonly T[], works: readonly number[], count: number): T[][] {
  const total = works.reduce((sum, w) => sum + w, 0);
  const weights = total > 0 ? works : works.map(() => 1);
  const sum = total > 0 ? total : works.length;
  const batches: T[][] = Array.from({ length: count }, () => []);
  let before = 0;
  partitions.forEach((partition, i) => {
    const weight = weights[i]!;
    const at = Math.min(count - 1, Math.floor(((before + weight / 2) / sum) * count));
    batches[at]!.push(partition);
    before += weight;
  });
  return batches.filter((batch) => batch.length > 0);
}

/** Halves any batch over the count or the run-time bound (a single partition over it stays alone). */
function bounded<T extends SizedPartition>(
  batches: T[][],
  options: BatchPlanOptions,
  model: RunCostModel,
  maxWork: number,
): T[][] {
  const out: T[][] = [];
  const place = (batch: T[]): void => {
    const work = batch.reduce((sum, p) => sum + workSeconds(p.bytes, options.dpu, model), 0);
    if (batch.length > 1 && (batch.length > MAX_PARTITIONS_PER_RUN || work > maxWork)) {
      const half = Math.ceil(batch.length / 2);
      place(batch.slice(0, half));
      place(batch.slice(half));
    } else out.push(batch);
  };
  batches.forEach(place);
  return out;
}
