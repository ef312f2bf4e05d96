/**
 * Batch planning (domain/cost/job-batches.ts) against the issue 23 scenarios and their goals, with the cost and time model
 * of domain/cost/run-costs.ts. Prints one line per scenario and plan, the baseline (partitionsPerRun: 1) included.
 */
import {
  batchPlanOptions,
  MAX_PARTITIONS_PER_RUN,
  MIN_WORK_SECONDS,
  modelPlan,
  planJobBatches,
  TIMEOUT_SHARE,
  type BatchPlanOptions,
} from '../../domain/cost/job-batches';
import { parseConfig } from '../../domain/config/config';
import { RUN_COST_MODEL } from '../../domain/cost';
import { testConfig } from '../support/fakes';

const MB = 1_000_000;
const GB = 1_000_000_000;

interface Part {
  id: number;
  bytes: number;
}
const parts = (count: number, bytes: number): Part[] => Array.from({ length: count }, (_, id) => ({ id, bytes }));

/** `orders` in the README: 5 concurrent runs, G.1X with 2 workers (2 DPU), the default 60-minute timeout. */
const ORDERS: BatchPlanOptions = { partitionsPerRun: 'auto', maxConcurrentRuns: 5, timeoutMinutes: 60, dpu: 2 };

const SCENARIOS = [
  { name: '1000x10MB', partitions: parts(1000, 10 * MB), goal: { dollars: 1.5, hours: 0.5 } },
  { name: '100000x10MB', partitions: parts(100_000, 10 * MB), goal: { dollars: 150, hours: 4.8 } },
  // "no slower than today": checked against the baseline's wall time below.
  { name: '24x1GB', partitions: parts(24, 1 * GB), goal: { dollars: 0.36, hours: Infinity } },
];

/** Each partition once, in the input order. */
function expectOrderKept(batches: Part[][], partitions: Part[]): void {
  expect(batches.flat().map((p) => p.id)).toEqual(partitions.map((p) => p.id));
  for (const batch of batches) expect(batch.length).toBeGreaterThan(0);
}

describe('batch planning with the cost model (issue 23)', () => {
  const lines: string[] = [];
  afterAll(() => process.stdout.write(lines.join('\n') + '\n'));

  test.each(SCENARIOS)(
    '$name meets its goals, and is no slower than one run per partition',
    ({ name, partitions, goal }) => {
      const baselineBatches = planJobBatches(partitions, { ...ORDERS, partitionsPerRun: 1 });
      const autoBatches = planJobBatches(partitions, ORDERS);
      const baseline = modelPlan(baselineBatches, ORDERS);
      const auto = modelPlan(autoBatches, ORDERS);
      for (const [label, plan] of [
        ['auto', auto],
        ['partitionsPerRun 1', baseline],
      ] as const)
        lines.push(
          `scenario: ${name} plan: ${label} partitions: ${partitions.length} job runs: ${plan.jobRuns} ` +
            `glue dollars: ${plan.glueDollars.toFixed(2)} wall hours: ${(plan.wallSeconds / 3600).toFixed(2)} ` +
            `longest run minutes: ${(plan.longestRunSeconds / 60).toFixed(1)}`,
        );
      expectOrderKept(autoBatches, partitions);
      expect(auto.glueDollars).toBeLessThanOrEqual(goal.dollars);
      expect(auto.wallSeconds / 3600).toBeLessThanOrEqual(goal.hours);
      expect(auto.wallSeconds).toBeLessThanOrEqual(baseline.wallSeconds);
      // Well below the job timeout, and at most MAX_PARTITIONS_PER_RUN a run.
      expect(auto.longestRunSeconds).toBeLessThanOrEqual(ORDERS.timeoutMinutes * 60 * TIMEOUT_SHARE);
      for (const batch of autoBatches) expect(batch.length).toBeLessThanOrEqual(MAX_PARTITIONS_PER_RUN);
    },
  );

  test('the three scenarios, exactly: their batch counts and sizes', () => {
    const sizes = (name: string) =>
      planJobBatches(SCENARIOS.find((s) => s.name === name)!.partitions, ORDERS).map((b) => b.length);
    // 10 GB is 200 s of work at 2 DPU: one run (two would each be under MIN_WORK_SECONDS).
    expect(sizes('1000x10MB')).toEqual([1000]);
    // 1 TB: 100 runs of 1,000 partitions (the count bound), 20 full waves of 5.
    expect(sizes('100000x10MB')).toEqual(new Array(100).fill(1000));
    // 480 s of work: 4 runs of 6 (a fifth would be under MIN_WORK_SECONDS), all at once.
    expect(sizes('24x1GB')).toEqual([6, 6, 6, 6]);
  });

  test('partitionsPerRun 1 is one job run per partition, in order (the plan before batching)', () => {
    const partitions = parts(37, 3 * MB);
    const batches = planJobBatches(partitions, { ...ORDERS, partitionsPerRun: 1 });
    expect(batches).toEqual(partitions.map((p) => [p]));
  });

  test('partitionsPerRun N: consecutive runs of N, the last one shorter', () => {
    const batches = planJobBatches(parts(10, MB), { ...ORDERS, partitionsPerRun: 4 });
    expect(batches.map((b) => b.map((p) => p.id))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
  });

  test('every auto run has at least MIN_WORK_SECONDS of work when there is that much, and uses the concurrency', () => {
    // 50 partitions of 1 GB: 1,000 s of work, so 5 runs (the concurrency) of 200 s each.
    const batches = planJobBatches(parts(50, GB), ORDERS);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 10, 10, 10]);
    for (const batch of batches)
      expect(modelPlan([batch], ORDERS).longestRunSeconds - RUN_COST_MODEL.jobStartupSeconds).toBeGreaterThanOrEqual(
        MIN_WORK_SECONDS,
      );
  });

  test('runs stay under a quarter of the job timeout: a shorter timeout gives more, smaller runs', () => {
    const partitions = parts(200, GB); // 4,000 s of work
    const long = planJobBatches(partitions, ORDERS);
    const short = planJobBatches(partitions, { ...ORDERS, timeoutMinutes: 10 });
    expect(modelPlan(short, ORDERS).longestRunSeconds).toBeLessThanOrEqual(10 * 60 * TIMEOUT_SHARE);
    expect(short.length).toBeGreaterThan(long.length);
    expect(short.length % ORDERS.maxConcurrentRuns).toBe(0);
  });

  test('a partition larger than a run may be stays whole, alone in its run', () => {
    const partitions = [
      { id: 0, bytes: MB },
      { id: 1, bytes: 100 * GB },
      { id: 2, bytes: MB },
    ];
    const batches = planJobBatches(partitions, ORDERS);
    expectOrderKept(batches, partitions);
    expect(batches.find((b) => b.some((p) => p.id === 1))).toEqual([partitions[1]]);
  });

  test('unequal partitions: batches of about equal work, not equal counts', () => {
    const partitions = [...parts(10, 100 * MB), ...parts(10, 2 * GB)].map((p, id) => ({ ...p, id }));
    const batches = planJobBatches(partitions, ORDERS);
    expectOrderKept(batches, partitions);
    const works = batches.map((b) => b.reduce((sum, p) => sum + p.bytes, 0));
    expect(Math.max(...works) / Math.min(...works)).toBeLessThan(2);
  });

  test('few tiny partitions: never slower than one run per partition', () => {
    for (const count of [1, 2, 3, 5, 6, 11]) {
      const partitions = parts(count, 10 * MB);
      const auto = modelPlan(planJobBatches(partitions, ORDERS), ORDERS);
      const one = modelPlan(planJobBatches(partitions, { ...ORDERS, partitionsPerRun: 1 }), ORDERS);
      expect([count, auto.wallSeconds <= one.wallSeconds]).toEqual([count, true]);
      expect(auto.glueDollars).toBeLessThanOrEqual(one.glueDollars + 1e-12);
    }
  });

  test('partitions without sizes are cut into equal counts; no partitions, no runs', () => {
    expect(planJobBatches(parts(2500, 0), ORDERS).map((b) => b.length)).toEqual([833, 834, 833]);
    expect(planJobBatches([], ORDERS)).toEqual([]);
  });

  test('bad options are refused, naming the value', () => {
    expect(() => planJobBatches(parts(1, 1), { ...ORDERS, partitionsPerRun: 0 })).toThrow(/partitionsPerRun 0/);
    expect(() => planJobBatches(parts(1, 1), { ...ORDERS, maxConcurrentRuns: 0 })).toThrow(/maxConcurrentRuns 0/);
  });

  test('config: job.partitionsPerRun is "auto" unless set; N and "auto" accepted, others refused', () => {
    const config = (job: Record<string, unknown>) =>
      parseConfig(
        {
          stage: 'dev',
          lake: { rawBucket: 'raw-b', curatedBucket: 'cur-b' },
          datasets: [
            {
              name: 'orders',
              raw: { prefix: 'orders/', format: 'csv' },
              partitioning: { style: 'hive', keys: [{ name: 'day', type: 'string', pattern: '^[0-9-]+$' }] },
              job,
              target: { database: 'curated', table: 'orders', locationTemplate: 'orders/day={day}/' },
              mapping: [{ source: 'id', target: 'id', type: 'int' }],
            },
          ],
        },
        'test config',
      ).datasets[0]!.job.partitionsPerRun;
    expect(config({})).toBe('auto');
    expect(config({ partitionsPerRun: 1 })).toBe(1);
    expect(config({ partitionsPerRun: 'auto' })).toBe('auto');
    expect(() => config({ partitionsPerRun: 0 })).toThrow(/partitionsPerRun/);
    expect(() => config({ partitionsPerRun: 'some' })).toThrow(/partitionsPerRun/);
  });

  test("a dataset's planning options: its job settings and the stage's DPU", () => {
    const config = testConfig();
    const dataset = config.datasets[0]!;
    expect(batchPlanOptions(config, dataset)).toEqual({
      partitionsPerRun: 'auto',
      maxConcurrentRuns: dataset.job.maxConcurrentRuns,
      timeoutMinutes: dataset.job.timeoutMinutes,
      dpu: config.deploy.glueWorkers,
    });
    const bigger = { deploy: { ...config.deploy, glueWorkerType: 'G.2X', glueWorkers: 10 } };
    expect(batchPlanOptions(bigger, dataset).dpu).toBe(20);
  });
});
