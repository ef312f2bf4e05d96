/**
 * Issue 23: the plan step (sizes, batch files, the Map's item list), the time budget of an execution (automatic:
 * the rest left for the follow-up; manual: refused with the limit and the split), the batch start/check steps and
 * the summary's pre-job failures.
 */
import { MemoryArtifactStore } from '../../adapters/memory/artifact-store';
import { runArtifacts, InvalidInputError, InvalidOutputError, type Log } from '../../domain/common';
import { modelledWallSeconds, partitionsWithinTimeBudget, timeBudgetSeconds } from '../../domain/runs/claim-limits';
import { parseConfig } from '../../domain/config/config';
import { batchPlanOptions } from '../../domain/cost';
import { readPreJobFailures, summarizeMapRun } from '../../domain/steps/map-results';
import { writePartitionList } from '../../domain/inputs';
import { batchResultsLocation, checkJobRun, jobBatchLocation, startJobRun } from '../../domain/steps/jobs';
import { assertManualRunFits, jobRunsListLocation, partitionSizes, planJobRuns } from '../../domain/steps/plan';
import { writeMapRunResults } from '../../adapters/local/distributed-map';
import type { JobWorkItem, PartitionValues } from '../../schemas/types.generated';
import { fakeWorld, ORDERS_CONFIG, type FakeWorld } from '../support/fakes';
import { days } from '../support/limits-run';

const log: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:plan-1';
const MB = 1_000_000;
const GB = 1_000_000_000;

function world(bytes: number | undefined, job: Record<string, unknown> = {}): FakeWorld {
  const document = structuredClone(ORDERS_CONFIG);
  Object.assign(document.datasets[0]!, { job: { maxConcurrentRuns: 5, ...job } });
  const w = fakeWorld(parseConfig(document));
  if (bytes !== undefined) w.deps.objects = { headObject: async () => 'exists', prefixBytes: async () => bytes };
  return w;
}

async function plan(w: FakeWorld, partitions: PartitionValues[], mode?: 'automatic' | 'manual') {
  const items = await writePartitionList(w.artifacts, ARN, partitions);
  const output = await planJobRuns(
    { dataset: 'orders', executionArn: ARN, items, ...(mode ? { mode } : {}) },
    w.deps,
    log,
  );
  const list = JSON.parse((await w.artifacts.get(jobRunsListLocation(w.artifacts.bucket, ARN)))!) as JobWorkItem[];
  return { output, list };
}

describe('Plan the job runs', () => {
  test('1,000 partitions of 10 MB: one batch file, one Map item, the model figures of docs/batches.md', async () => {
    const w = world(10 * MB);
    const { output, list } = await plan(w, days(1000));
    expect(output).toMatchObject({ partitions: 1000, jobRuns: 1, sized: 'measured' });
    expect(output.modelledGlueDollars).toBeCloseTo(0.06, 2);
    expect(list).toEqual([{ partition: days(1)[0], batch: { index: 0, count: 1000 } }]);
    const batch = JSON.parse((await w.artifacts.get(jobBatchLocation(w.artifacts.bucket, ARN, 0)))!);
    expect(batch.partitions).toHaveLength(1000);
    expect(batch.partitions[999]).toMatchObject({ partition: days(1000)[999], bytes: 10 * MB });
  });

  test('partitionsPerRun 1: every item inline, no batch file', async () => {
    const w = world(10 * MB, { partitionsPerRun: 1 });
    const { output, list } = await plan(w, days(5));
    expect(output.jobRuns).toBe(5);
    expect(list.every((i) => i.batch.count === 1 && i.batch.index === undefined)).toBe(true);
    expect(await w.artifacts.get(jobBatchLocation(w.artifacts.bucket, ARN, 0))).toBeNull();
  });

  test('partitionsPerRun N: runs of N in order; a last batch of one stays inline', async () => {
    const w = world(undefined, { partitionsPerRun: 3 });
    const { list } = await plan(w, days(7));
    expect(list.map((i) => i.batch)).toEqual([{ index: 0, count: 3 }, { index: 1, count: 3 }, { count: 1 }]);
    expect(list[2]!.partition).toEqual(days(7)[6]);
  });

  test('sizes: listed per partition up to the sample, beyond it an evenly spread sample at its mean', async () => {
    const w = world(undefined);
    const listed: string[] = [];
    w.deps.objects = {
      headObject: async () => 'exists',
      prefixBytes: async (_b, prefix) => {
        listed.push(prefix);
        return prefix.includes('day=01') ? 3100 : 100;
      },
    };
    const dataset = w.deps.config.datasets[0]!;
    const few = await partitionSizes(dataset, days(40), w.deps, 50);
    expect(few.sized).toBe('measured');
    expect(listed).toHaveLength(40);
    listed.length = 0;
    const many = await partitionSizes(dataset, days(400), w.deps, 50);
    expect(many.sized).toBe('sampled');
    expect(listed).toHaveLength(50);
    expect(many.sizes).toHaveLength(400);
    expect(new Set(many.sizes).size).toBeGreaterThan(1);
    expect(await partitionSizes(dataset, days(3), world(undefined).deps)).toEqual({
      sizes: undefined,
      sized: 'unknown',
    }); // Nothing under any partition: no sizes (the data is elsewhere or invisible), not "all empty, batch them".
    expect(await partitionSizes(dataset, days(3), world(0).deps)).toEqual({ sizes: undefined, sized: 'unknown' });
  });
});

describe('the time budget of an execution', () => {
  const options = batchPlanOptions(world(undefined).deps.config, world(undefined).deps.config.datasets[0]!);

  test('half the 48 h execution timeout', () => {
    expect(timeBudgetSeconds()).toBe(24 * 3600);
  });

  test('the longest prefix whose modelled plan fits, and never none', () => {
    const one = { ...options, partitionsPerRun: 1 as const };
    const partitions = Array.from({ length: 20_000 }, () => ({ bytes: 10 * MB }));
    const k = partitionsWithinTimeBudget(partitions, one);
    expect(k).toBeLessThan(20_000);
    expect(modelledWallSeconds(partitions.slice(0, k), one)).toBeLessThanOrEqual(timeBudgetSeconds());
    expect(modelledWallSeconds(partitions.slice(0, k + 1), one)).toBeGreaterThan(timeBudgetSeconds());
    expect(partitionsWithinTimeBudget([{ bytes: 10_000 * GB }], one)).toBe(1);
    // Batched, the same 20,000 partitions fit easily.
    expect(partitionsWithinTimeBudget(partitions, options)).toBe(20_000);
  });

  test('an automatic run plans only what fits; the rest is left (the release puts it back to pending)', async () => {
    const w = world(10 * MB, { partitionsPerRun: 1 });
    const { output, list } = await plan(w, days(16_000), 'automatic');
    expect(output.deferred).toBeGreaterThan(0);
    expect(output.partitions + output.deferred!).toBe(16_000);
    expect(list).toHaveLength(output.partitions);
    expect(output.modelledWallSeconds).toBeLessThanOrEqual(timeBudgetSeconds());
    // A manual run's list is planned whole (prepare-run held it to the budget).
    const manual = await plan(world(10 * MB, { partitionsPerRun: 1 }), days(16_000), 'manual');
    expect(manual.output.deferred).toBeUndefined();
  });

  test('a manual range over the budget is refused with the limit and the commands that split it', async () => {
    const w = world(10 * MB, { partitionsPerRun: 1 });
    const dataset = w.deps.config.datasets[0]!;
    const partitions = days(20_000);
    const request = { dataset: 'orders', range: { from: partitions[0]!, to: partitions[19_999]! } };
    const refusal = assertManualRunFits(request, dataset, partitions, w.deps);
    await expect(refusal).rejects.toThrow(InvalidInputError);
    await expect(refusal).rejects.toThrow(/over the time budget of 24\.0 h per execution/);
    await expect(refusal).rejects.toThrow(
      /sluice backfill --dataset orders --from year=2001\/month=01\/day=01 --to year=\d{4}\/month=\d\d\/day=\d\d, then again --from/,
    );
    // Batched ("auto"), the same range fits.
    const batched = world(10 * MB).deps;
    await expect(
      assertManualRunFits(request, batched.config.datasets[0]!, partitions, batched),
    ).resolves.toBeUndefined();
  });

  test('a manifest over the budget is refused with the largest run that fits', async () => {
    const w = world(undefined);
    const dataset = w.deps.config.datasets[0]!;
    const request = { dataset: 'orders', manifest: 's3://x/manifests/m.json' };
    await expect(assertManualRunFits(request, dataset, days(15_000), w.deps)).rejects.toThrow(
      /sizes unknown, one job run each.*split the manifest into runs of at most 14\d\d\d partitions/,
    );
  });

  test('prepare-run refuses such a run before writing anything', async () => {
    const { prepareRun } = await import('../../domain/steps/run');
    const w = world(10 * MB, { partitionsPerRun: 1 });
    const partitions = days(20_000);
    await expect(
      prepareRun(
        { request: { dataset: 'orders', range: { from: partitions[0], to: partitions[19_999] } }, executionArn: ARN },
        w.deps,
        log,
      ),
    ).rejects.toThrow(/time budget/);
    expect(await w.artifacts.get(runArtifacts(w.artifacts.bucket, ARN).partitionList)).toBeNull();
  });
});

describe('batch job runs', () => {
  test('start reads the batch file and starts one run with --sluice_batch; a retry attaches to it', async () => {
    const w = world(GB);
    const { list } = await plan(w, days(12));
    const item = list[0]!;
    const input = { dataset: 'orders', executionArn: ARN, partition: item.partition, batch: item.batch };
    const first = await startJobRun(input, w.deps, log);
    expect(w.jobs.runs).toHaveLength(1);
    expect(w.jobs.runs[0]!.arguments['--sluice_batch']).toMatch(/batches\/0\.json$/);
    const again = await startJobRun(input, w.deps, log);
    expect(again).toMatchObject({ runId: first.runId, attached: true });
    expect(w.jobs.runs).toHaveLength(1);
  });

  test('check gives the batch result with its per-partition results written beside the batch file', async () => {
    const w = world(GB);
    const { list } = await plan(w, days(12));
    const item = list[0]!;
    const bad = days(12)[1]!;
    w.jobs.script = () => ({
      pollsToFinish: 0,
      finalState: 'SUCCEEDED',
      partitionFailure: (p) => (p.day === bad.day ? 'bad rows over the limit' : undefined),
    });
    const input = { dataset: 'orders', executionArn: ARN, partition: item.partition, batch: item.batch };
    const job = await startJobRun(input, w.deps, log);
    const checked = await checkJobRun({ ...input, job }, w.deps, log);
    expect(checked.done).toBe(true);
    expect(checked.result).toMatchObject({
      ok: false,
      state: 'SUCCEEDED',
      message: 'bad rows over the limit',
      batch: { index: 0, count: item.batch.count, succeededCount: item.batch.count - 1, failedCount: 1 },
    });
    const results = JSON.parse(
      (await w.artifacts.get(batchResultsLocation(jobBatchLocation(w.artifacts.bucket, ARN, 0))))!,
    );
    expect(results).toHaveLength(item.batch.count);
    expect(results.filter((r: { ok: boolean }) => !r.ok)).toEqual([
      { partition: bad, ok: false, state: 'FAILED', message: 'bad rows over the limit' },
    ]);
    expect(checked.result!.rows).toEqual({
      in: 10 * (item.batch.count - 1),
      out: 10 * (item.batch.count - 1),
      bad: 0,
    });
  });
});

describe('the summary: pre-job failures', () => {
  const partition = (day: number) => ({ year: '2024', month: '01', day: String(day).padStart(2, '0') });

  async function mapRunOf(store: MemoryArtifactStore) {
    return writeMapRunResults(
      store,
      { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: store.bucket, Prefix: 'runs/x/map-results' } },
      'arn:aws:states:eu-west-1:123456789012:stateMachine:sluice-test',
      'Partitions',
      [1, 2].map((day) => ({
        name: `c${day}`,
        input: { dataset: 'orders', executionArn: ARN, partition: partition(day), batch: { count: 1 } },
        status: 'SUCCEEDED' as const,
        output: { partition: partition(day), ok: true, state: 'SUCCEEDED' },
        startedAt: new Date(),
        stoppedAt: new Date(),
      })),
    );
  }

  test('counted as failed partitions: in the re-run input, the counts and the first failures', async () => {
    const store = new MemoryArtifactStore('sluice-test-artifacts');
    const at = { bucket: store.bucket, key: 'runs/sluice-test/plan-1/drift-failures.json', count: 1 };
    const drifted = { partition: partition(3), ok: false, state: 'SCHEMA_DRIFT', message: 'column amount is now text' };
    await store.put(at, JSON.stringify([drifted]));
    const summary = await summarizeMapRun(
      { dataset: 'orders', executionArn: ARN, mapRun: await mapRunOf(store), preJobFailures: at },
      store,
    );
    expect(summary).toMatchObject({ total: 3, succeededCount: 2, failedCount: 1, firstFailures: [drifted] });
    expect(JSON.parse((await store.get(summary.failed!))!)).toEqual([partition(3)]);
    expect(summary.rerunInput).toMatchObject({ dataset: 'orders' });
  });

  test('a missing or malformed pre-job failures object is an error naming it', async () => {
    const store = new MemoryArtifactStore('sluice-test-artifacts');
    const at = { bucket: store.bucket, key: 'runs/x/f.json' };
    await expect(readPreJobFailures(store, at)).rejects.toThrow(/runs\/x\/f\.json do not exist/);
    await store.put(at, JSON.stringify([{ partition: partition(1), ok: true, state: 'SUCCEEDED' }]));
    await expect(readPreJobFailures(store, at)).rejects.toThrow(InvalidOutputError);
  });
});
