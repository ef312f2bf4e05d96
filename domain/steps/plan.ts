/**
 * State "Plan the job runs" (issue 23; docs/batches.md): the run's partitions, cut into the batches of one Glue job
 * run each (domain/cost/job-batches.ts), written where the job runs and the Distributed Map read them:
 *   - one JobBatch file per batch of two or more partitions (`batches/<n>.json`, jobBatch), named by the run's
 *     `--sluice_batch`;
 *   - the Map's item list (`job-runs.json`): one JobWorkItem per job run, the batch's first partition and its
 *     batch reference. A batch of one stays inline (no file, no index): with `partitionsPerRun: 1` a run is exactly
 *     the run before batching, and 100,000 single runs cost no 100,000 file writes.
 * The state gets a reference and counts, never a list.
 */
import type { JobWorkItem, PartitionValues, PlanJobRunsInput, PlanJobRunsOutput } from '../../schemas/types.generated';
import {
  executionPrefix,
  s3Uri,
  type ArtifactStore,
  type ObjectLocation,
  InvalidInputError,
  type Log,
} from '../common';
import { datasetNamed, type ResolvedDataset, rawPartitionPrefix } from '../config';
import { partitionsWithinTimeBudget, timeBudgetSeconds } from '../runs';
import { batchPlanOptions, modelPlan, planJobBatches, type BatchPlanOptions } from '../cost';
import type { Deps } from '../deps';
import { artifactsOf } from '../inputs';
import { jobBatch, jobBatchLocation } from './jobs';

/**
 * Partitions whose bytes are listed one by one; beyond that, an evenly spread sample of this many is listed and
 * the others count at the sample's mean. One listing per partition (about 50 ms, 16 at once) keeps a 1,000-partition
 * plan to a few seconds of a 60 s step; a 100,000-partition backfill is planned from its sample.
 */
export const SIZE_SAMPLE = 1000;
const LIST_CONCURRENCY = 16;
const WRITE_CONCURRENCY = 16;

/** The Map's item list: one JobWorkItem per job run. */
export function jobRunsListLocation(bucket: string, executionArn: string): ObjectLocation {
  return { bucket, key: `${executionPrefix(executionArn)}job-runs.json` };
}

export type Sizing = PlanJobRunsOutput['sized'];

/** Runs `work` over the items with at most `limit` at once, in order of start. */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Each partition's input bytes under its raw prefix (the objects that landed there). Listed one by one up to
 * SIZE_SAMPLE partitions, else for an evenly spread sample (the rest at its mean). Unknown without a listing port,
 * or when the listing finds no bytes under any of them.
 */
export async function partitionSizes(
  dataset: ResolvedDataset,
  partitions: readonly PartitionValues[],
  deps: Pick<Deps, 'objects' | 'config'>,
  sample = SIZE_SAMPLE,
): Promise<{ sizes: number[] | undefined; sized: Sizing }> {
  const list = deps.objects?.prefixBytes?.bind(deps.objects);
  if (!list || partitions.length === 0) return { sizes: undefined, sized: 'unknown' };
  const bucket = deps.config.lake.rawBucket;
  const n = partitions.length;
  const measured =
    n <= sample ? partitions.map((_, i) => i) : Array.from({ length: sample }, (_, i) => Math.floor((i * n) / sample));
  const sizes = new Array<number | undefined>(n).fill(undefined);
  await inParallel(measured, LIST_CONCURRENCY, async (i) => {
    sizes[i] = await list(bucket, rawPartitionPrefix(dataset, partitions[i]!));
  });
  // Nothing listed under any partition: the data is not where the layout says (or not visible), so no sizes.
  if (measured.every((i) => sizes[i] === 0)) return { sizes: undefined, sized: 'unknown' };
  if (n <= sample) return { sizes: sizes as number[], sized: 'measured' };
  const mean = measured.reduce((sum, i) => sum + sizes[i]!, 0) / measured.length;
  return { sizes: sizes.map((s) => s ?? Math.round(mean)), sized: 'sampled' };
}

async function readPartitions(store: ArtifactStore, items: PlanJobRunsInput['items']): Promise<PartitionValues[]> {
  const where = s3Uri(items);
  const text = await store.get(items);
  if (text === null) throw new InvalidInputError(`partition list ${where} does not exist`);
  const list = JSON.parse(text) as unknown;
  if (!Array.isArray(list)) throw new InvalidInputError(`partition list ${where} is not a JSON array`);
  if (items.count !== undefined && list.length !== items.count)
    throw new InvalidInputError(`partition list ${where} holds ${list.length} partitions, expected ${items.count}`);
  return list as PartitionValues[];
}

/** The plan's batches, its batch files and the Map's item list, written; the state gets where and how many. */
export async function planJobRuns(input: PlanJobRunsInput, deps: Deps, log: Log): Promise<PlanJobRunsOutput> {
  const dataset = datasetNamed(deps.config, input.dataset);
  const store = artifactsOf(deps);
  const partitions = await readPartitions(store, input.items);
  const { sizes, sized } = await partitionSizes(dataset, partitions, deps);
  const options = batchPlanOptions(deps.config, dataset);
  // "auto" never batches blind: without sizes it cannot tell a batch that is slower than single runs (a day of
  // 1 GB partitions in one run) from one that is cheaper, so it keeps one partition per job run.
  const effective =
    sized === 'unknown' && options.partitionsPerRun === 'auto' ? { ...options, partitionsPerRun: 1 } : options;
  const claimed = partitions.map((partition, i) => ({ partition, bytes: sizes?.[i] ?? 0 }));
  // The time budget (issue 23): an automatic run converts what the model says fits in half the execution timeout.
  // The rest is neither processed nor named in a notification, so the release step puts it back to pending and
  // starts the follow-up run (domain/steps/run.ts releaseLease). A manual run was held to it by prepare-run.
  const fitting = input.mode === 'automatic' ? partitionsWithinTimeBudget(claimed, effective) : claimed.length;
  const sizedPartitions = claimed.slice(0, fitting);
  if (fitting < claimed.length)
    log.warn('over the time budget: partitions left for the follow-up run', {
      deferred: claimed.length - fitting,
      budgetHours: timeBudgetSeconds() / 3600,
    });
  const batches = planJobBatches(sizedPartitions, effective);
  const items: JobWorkItem[] = [];
  const files: Array<{ location: ObjectLocation; batch: typeof sizedPartitions }> = [];
  batches.forEach((batch, index) => {
    if (batch.length === 1) items.push({ partition: batch[0]!.partition, batch: { count: 1 } });
    else {
      items.push({ partition: batch[0]!.partition, batch: { index, count: batch.length } });
      files.push({ location: jobBatchLocation(store.bucket, input.executionArn, index), batch });
    }
  });
  // Batch files before the item list: whatever the Map reads names only files that exist. Rewritten alike on a retry.
  await inParallel(files, WRITE_CONCURRENCY, async ({ location, batch }) => {
    const partitionsOf = batch.map((p) => (sizes ? p : { partition: p.partition }));
    const body = jobBatch(dataset, partitionsOf, input.executionArn, location, { bucket: store.bucket });
    await store.put(location, JSON.stringify(body), 'application/json');
  });
  const list = jobRunsListLocation(store.bucket, input.executionArn);
  await store.put(list, JSON.stringify(items), 'application/json');
  const model = modelPlan(batches, options);
  log.info('job runs planned', {
    partitions: partitions.length,
    jobRuns: items.length,
    batchFiles: files.length,
    sized,
    modelledGlueDollars: model.glueDollars,
    modelledWallSeconds: model.wallSeconds,
  });
  return {
    items: { ...list, count: items.length },
    partitions: sizedPartitions.length,
    jobRuns: items.length,
    ...(fitting < claimed.length ? { deferred: claimed.length - fitting } : {}),
    sized,
    ...(sizes ? { modelledGlueDollars: model.glueDollars, modelledWallSeconds: model.wallSeconds } : {}),
  };
}

/** The plan options as the plan step applies them: "auto" without sizes is one partition per job run. */
export function effectivePlanOptions(options: BatchPlanOptions, sized: Sizing): BatchPlanOptions {
  return sized === 'unknown' && options.partitionsPerRun === 'auto' ? { ...options, partitionsPerRun: 1 } : options;
}

const partitionArgument = (dataset: ResolvedDataset, p: PartitionValues): string =>
  dataset.partitioning.keys.map((k) => `${k.name}=${p[k.name]}`).join('/');

/**
 * A manual run's time budget (issue 23): refused, touching nothing, when the model says its partitions take longer
 * than half the execution timeout, with the limit and the commands that split it into runs that fit. Refused
 * rather than split into consecutive executions by itself: a split would chain executions behind the one run
 * lease, each registering part of the data, where the refusal costs one retyped command and leaves every run one
 * request (its notification, its re-run input) as the person asked.
 */
export async function assertManualRunFits(
  request: object,
  dataset: ResolvedDataset,
  partitions: readonly PartitionValues[],
  deps: Pick<Deps, 'objects' | 'config'>,
): Promise<void> {
  const { sizes, sized } = await partitionSizes(dataset, partitions, deps);
  const options = effectivePlanOptions(batchPlanOptions(deps.config, dataset), sized);
  const sizedPartitions = partitions.map((partition, i) => ({ partition, bytes: sizes?.[i] ?? 0 }));
  const fitting = partitionsWithinTimeBudget(sizedPartitions, options);
  if (fitting >= partitions.length) return;
  const hours = (seconds: number) => `${(seconds / 3600).toFixed(1)} h`;
  const budget = timeBudgetSeconds();
  const took = modelPlan(planJobBatches(sizedPartitions, options), options).wallSeconds;
  const name = dataset.name;
  const split =
    'range' in request
      ? `sluice backfill --dataset ${name} --from ${partitionArgument(dataset, partitions[0]!)} --to ${partitionArgument(dataset, partitions[fitting - 1]!)}, ` +
        `then again --from ${partitionArgument(dataset, partitions[fitting]!)} (runs of at most ${fitting} partitions)`
      : `split the ${'manifest' in request ? 'manifest' : 'partition list'} into runs of at most ${fitting} partitions ` +
        `(sluice backfill --dataset ${name} --from ... --to ... for consecutive ranges)`;
  throw new InvalidInputError(
    `dataset '${name}': this run's ${partitions.length} partitions take ${hours(took)} under the cost model ` +
      `(${sized === 'unknown' ? 'sizes unknown, one job run each' : `sizes ${sized}`}, job.partitionsPerRun ${JSON.stringify(options.partitionsPerRun)}), ` +
      `over the time budget of ${hours(budget)} per execution (half the state machine's ${hours(2 * budget)} timeout); ` +
      `at most ${fitting} fit. Split it: ${split}`,
  );
}
