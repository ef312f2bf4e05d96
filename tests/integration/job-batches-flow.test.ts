/**
 * Issue 23 through the real ASL in the local interpreter: "Plan the job runs" cuts the partitions into batches, the
 * Map runs one child per Glue job run, and the summary gives every partition its own result. One bad partition in
 * a batch fails only itself; a batch run that breaks fails each of its partitions; the re-run input lists exactly
 * the failed partitions.
 */
import { runArtifacts } from '../../domain/common';
import { parseConfig } from '../../domain/config/config';
import { jobBatchLocation } from '../../domain/steps/jobs';
import { jobRunsListLocation } from '../../domain/steps/plan';
import type { JobWorkItem, PartitionValues } from '../../schemas/types.generated';
import { fakeWorld, ORDERS_CONFIG, type FakeWorld } from '../support/fakes';
import { days } from '../support/limits-run';
import { arrive, EXECUTION_ARN, runAutomatic, runManual } from '../support/machine';

const GB = 1_000_000_000;

/** The orders world with a raw bucket whose partitions hold `bytes` each (the plan lists them). */
function sizedWorld(bytes: (prefix: string) => number, job: Record<string, unknown> = {}): FakeWorld {
  const document = structuredClone(ORDERS_CONFIG);
  Object.assign(document.datasets[0]!, { job: { maxConcurrentRuns: 5, ...job } });
  const world = fakeWorld(parseConfig(document));
  world.deps.objects = { headObject: async () => 'exists', prefixBytes: async (_bucket, prefix) => bytes(prefix) };
  world.jobs.script = () => ({ pollsToFinish: 1, finalState: 'SUCCEEDED' });
  return world;
}

const keyOf = (p: PartitionValues) => `${p.year}-${p.month}-${p.day}`;

async function listed(world: FakeWorld, key: 'failedPartitions' | 'succeededPartitions'): Promise<string[]> {
  const text = await world.artifacts.get(runArtifacts(world.artifacts.bucket, EXECUTION_ARN)[key]);
  return text === null ? [] : (JSON.parse(text) as PartitionValues[]).map(keyOf).sort();
}

async function items(world: FakeWorld): Promise<JobWorkItem[]> {
  return JSON.parse((await world.artifacts.get(jobRunsListLocation(world.artifacts.bucket, EXECUTION_ARN)))!);
}

test('12 partitions of 1 GB: fewer job runs than partitions, every partition converted and registered', async () => {
  const world = sizedWorld(() => GB);
  const partitions = days(12);
  const result = await runManual(
    world,
    { dataset: 'orders', partitions, skipCrawler: true },
    { expectStatus: 'SUCCEEDED' },
  );
  const plan = await items(world);
  expect(plan.length).toBeGreaterThan(1);
  expect(plan.length).toBeLessThan(12);
  expect(world.jobs.runs).toHaveLength(plan.length);
  expect(world.jobs.runs.every((r) => r.arguments['--sluice_batch'] !== undefined)).toBe(true);
  // Each batch file holds its partitions, in order, with their measured bytes.
  const first = JSON.parse(
    (await world.artifacts.get(jobBatchLocation(world.artifacts.bucket, EXECUTION_ARN, 0)))!,
  ) as { partitions: Array<{ bytes: number }> };
  expect(first.partitions.every((p) => p.bytes === GB)).toBe(true);
  expect(await listed(world, 'succeededPartitions')).toEqual(partitions.map(keyOf).sort());
  expect(await listed(world, 'failedPartitions')).toEqual([]);
  expect(world.notifier.published).toHaveLength(0);
  expect(result.status).toBe('SUCCEEDED');
});

test('one bad partition in a batch fails only itself: the re-run input lists exactly it', async () => {
  const world = sizedWorld(() => GB);
  const partitions = days(12);
  const bad = partitions[4]!;
  world.jobs.script = () => ({
    pollsToFinish: 1,
    finalState: 'SUCCEEDED',
    partitionFailure: (p) => (keyOf(p) === keyOf(bad) ? 'ragged row: s3://raw/orders/x.csv line 3' : undefined),
  });
  const result = await runManual(world, { dataset: 'orders', partitions, skipCrawler: true });
  expect(result.status).toBe('FAILED');
  expect(await listed(world, 'failedPartitions')).toEqual([keyOf(bad)]);
  expect(await listed(world, 'succeededPartitions')).toEqual(
    partitions
      .filter((p) => keyOf(p) !== keyOf(bad))
      .map(keyOf)
      .sort(),
  );
  expect(world.notifier.published).toHaveLength(1);
  const message = world.notifier.published[0]!.message;
  expect(message).toContain('1 of 12 partition job runs failed');
  expect(message).toContain('ragged row: s3://raw/orders/x.csv line 3');
});

test('a batch run that breaks fails each of its partitions, and only those', async () => {
  const world = sizedWorld(() => GB);
  const partitions = days(12);
  let started = 0;
  world.jobs.script = () =>
    started++ === 0
      ? { pollsToFinish: 1, finalState: 'FAILED', errorMessage: 'Container killed: out of memory' }
      : { pollsToFinish: 1, finalState: 'SUCCEEDED' };
  const result = await runManual(world, { dataset: 'orders', partitions, skipCrawler: true });
  expect(result.status).toBe('FAILED');
  const plan = await items(world);
  const firstBatch = plan[0]!.batch.count;
  expect(await listed(world, 'failedPartitions')).toEqual(partitions.slice(0, firstBatch).map(keyOf).sort());
  expect(await listed(world, 'succeededPartitions')).toEqual(partitions.slice(firstBatch).map(keyOf).sort());
  expect(world.notifier.published[0]!.message).toContain('Container killed: out of memory');
});

test('partitionsPerRun 1 is the run before batching: one job run per partition, no batch files', async () => {
  const world = sizedWorld(() => GB, { partitionsPerRun: 1 });
  const partitions = days(7);
  await runManual(world, { dataset: 'orders', partitions, skipCrawler: true }, { expectStatus: 'SUCCEEDED' });
  expect(world.jobs.runs).toHaveLength(7);
  expect(world.jobs.runs.every((r) => r.arguments['--sluice_partition'] !== undefined)).toBe(true);
  expect(await world.artifacts.get(jobBatchLocation(world.artifacts.bucket, EXECUTION_ARN, 0))).toBeNull();
  expect((await items(world)).every((i) => i.batch.count === 1 && i.batch.index === undefined)).toBe(true);
});

test('"auto" never batches blind: without partition sizes, one job run per partition', async () => {
  const world = sizedWorld(() => GB);
  delete world.deps.objects;
  await runManual(world, { dataset: 'orders', partitions: days(6), skipCrawler: true }, { expectStatus: 'SUCCEEDED' });
  expect(world.jobs.runs).toHaveLength(6);
});

test('an automatic run over its time budget converts what fits; the rest goes back to pending for the follow-up', async () => {
  // 1 TB partitions one per job run: 5.6 h each under the model, 5 at once, so 24 h (half the execution timeout)
  // holds 4 waves: 20 partitions.
  const world = sizedWorld(() => 1000 * GB, { partitionsPerRun: 1 });
  const partitions = days(30);
  for (const p of partitions) await arrive(world, 'orders', `year=${p.year}/month=${p.month}/day=${p.day}`);
  world.clock.advance(3600);
  const result = await runAutomatic(world, 'orders', { expectStatus: 'SUCCEEDED' });
  const output = result.output as {
    plan: { partitions: number; deferred: number };
    jobResults: { succeededCount: number };
  };
  expect(output.plan).toMatchObject({ partitions: 20, deferred: 10 });
  expect(output.jobResults.succeededCount).toBe(20);
  expect(world.jobs.runs).toHaveLength(20);
  // The deferred ten are pending again, and the release started the follow-up run that claims them.
  expect((await world.arrivals.pendingSummary('orders'))?.partitions).toBe(10);
  expect(world.executions.started).toHaveLength(1);
});

test('a batch whose job run cannot start fails each partition of its batch file, with the error', async () => {
  const world = sizedWorld(() => GB);
  const partitions = days(12);
  const start = world.jobs.startJobRun.bind(world.jobs);
  let calls = 0;
  world.jobs.startJobRun = async (job, args) => {
    if (calls++ === 0) throw Object.assign(new Error('job sluice-test-orders not found'), { name: 'JobNotFound' });
    return start(job, args);
  };
  const result = await runManual(world, { dataset: 'orders', partitions, skipCrawler: true });
  expect(result.status).toBe('FAILED');
  const firstBatch = (await items(world))[0]!.batch.count;
  expect(await listed(world, 'failedPartitions')).toEqual(partitions.slice(0, firstBatch).map(keyOf).sort());
  expect(await listed(world, 'succeededPartitions')).toEqual(partitions.slice(firstBatch).map(keyOf).sort());
});
