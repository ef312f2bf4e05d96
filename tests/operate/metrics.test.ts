/**
 * The metrics: what each step's input and output imply (domain/metrics/metrics.ts), and the embedded-metric-format JSON the
 * Lambda wrapper prints for them (adapters/lambda/step.ts). The packaged bundles' EMF is in observability.test.ts.
 */
import { freshnessWindow } from '../../deploy/observability';
import { lambdaHandler, publishMetrics } from '../../adapters/lambda/step';
import { arrivalMetrics } from '../../domain/intake';
import { METRICS, stepMetrics } from '../../domain/metrics';
import type { Deps } from '../../domain/deps';

const NOW = new Date('2026-03-01T12:00:00Z');
const at = (secondsAgo: number) => new Date(NOW.getTime() - secondsAgo * 1000).toISOString();

function captureStdout<T>(run: () => T): { value: T; lines: string[] } {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  try {
    return { value: run(), lines };
  } finally {
    spy.mockRestore();
  }
}

describe('metrics derived from step inputs and outputs', () => {
  test.each([
    ['prepareRun', { request: {}, executionArn: 'a' }, { run: { dataset: 'orders' } }, [['RunsStarted', 1]]],
    [
      'claimArrivals',
      { dataset: 'orders' },
      { settled: true, partitionCount: 3, claimedAt: NOW.toISOString(), firstArrivalAt: at(95) },
      [['DebounceWait', 95]],
    ],
    ['claimArrivals', { dataset: 'orders' }, { settled: false, partitionCount: 0, claimedAt: at(0) }, []],
    [
      'checkJobRun',
      { dataset: 'orders' },
      { done: true, startedAt: at(600), result: { ok: true, state: 'SUCCEEDED', rows: { in: 10, out: 9, bad: 1 } } },
      // Rows are recorded by the job-run core itself (deps.metrics), not derived from outputs: tests/operate/job-rows.test.ts.
      [['JobDuration', 600]],
    ],
    ['checkJobRun', { dataset: 'orders' }, { done: false, startedAt: at(600) }, []],
    [
      'summarizeJobRuns',
      { dataset: 'orders' },
      { succeededCount: 4, failedCount: 1 },
      [
        ['PartitionsProcessed', 4],
        ['PartitionsFailed', 1],
      ],
    ],
    ['checkPartitionRefresh', { dataset: 'orders' }, { done: true, partitionCount: 4 }, [['PartitionsQueryable', 4]]],
    ['checkPartitionRefresh', { dataset: 'orders' }, { done: false, partitionCount: 4 }, []],
    ['notifyFailure', { state: {} }, { report: { dataset: 'orders' } }, [['RunsFailed', 1]]],
    [
      'releaseLease',
      {
        dataset: 'orders',
        outcome: 'succeeded',
        state: { debounce: { lastArrivalAt: at(300) }, refresh: { done: true, partitionCount: 2 } },
      },
      { released: true },
      [
        ['RunsSucceeded', 1],
        ['LandingToQueryable', 300],
        ['NewestQueryableArrival', NOW.getTime() / 1000 - 300],
      ],
    ],
    // A manual run claims no arrivals: no latency, and no made-up zero.
    ['releaseLease', { dataset: 'orders', outcome: 'failed', state: { refresh: { done: true } } }, {}, []],
  ])('%s, case %#', (step, input, output, expected) => {
    const points = stepMetrics(step, input, output, NOW);
    expect(points.map((p) => [p.name, p.value])).toEqual(expected);
    for (const p of points) expect(p.dataset).toBe('orders');
  });

  test('odd input never throws and emits nothing it cannot read', () => {
    for (const step of Object.keys(METRICS).concat('prepareRun', 'checkJobRun', 'releaseLease'))
      for (const odd of [null, undefined, 42, 'x', [], { state: null, refresh: 'no' }])
        expect(() => stepMetrics(step, odd, odd, NOW)).not.toThrow();
    expect(stepMetrics('checkJobRun', {}, { done: true, startedAt: 'not a date' }, NOW)).toEqual([]);
  });

  test('arrivals: accepted, duplicate and rejected (the last under dataset "none")', () => {
    const seen = { dataset: 'clicks', partition: 'dt=2024-01-01', key: 'k', startedExecution: null };
    expect(arrivalMetrics({ status: 'accepted', ...seen })).toEqual([
      { name: 'ArrivalsAccepted', value: 1, dataset: 'clicks' },
    ]);
    expect(arrivalMetrics({ status: 'duplicate', ...seen })).toEqual([
      { name: 'ArrivalsDuplicate', value: 1, dataset: 'clicks' },
    ]);
    expect(arrivalMetrics({ status: 'rejected', reason: 'no' })).toEqual([
      { name: 'ArrivalsRejected', value: 1, dataset: 'none' },
    ]);
  });
});

describe('embedded metric format', () => {
  test('one JSON document per dataset: namespace sluice, dimensions exactly stage and dataset, values and units', () => {
    const { lines } = captureStdout(() =>
      publishMetrics(
        [
          { name: 'PartitionsProcessed', value: 4, dataset: 'orders' },
          { name: 'JobDuration', value: 12.5, dataset: 'orders' },
          { name: 'ArrivalsRejected', value: 1, dataset: 'none' },
        ],
        'prod',
      ),
    );
    const docs = lines.map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: Record<string, unknown> });
    expect(docs).toHaveLength(2);
    const [orders, none] = docs;
    expect(orders?._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'sluice',
        Dimensions: [['stage', 'dataset']],
        Metrics: [
          { Name: 'PartitionsProcessed', Unit: 'Count' },
          { Name: 'JobDuration', Unit: 'Seconds' },
        ],
      },
    ]);
    expect(orders).toMatchObject({ stage: 'prod', dataset: 'orders', PartitionsProcessed: 4, JobDuration: 12.5 });
    expect(orders).not.toHaveProperty('service');
    expect(none).toMatchObject({ stage: 'prod', dataset: 'none', ArrivalsRejected: 1 });
  });

  test('nothing to emit prints nothing', () => {
    expect(captureStdout(() => publishMetrics([], 'prod')).lines).toEqual([]);
  });

  test('the Lambda wrapper emits what the step output implies, after the step succeeded', async () => {
    const step = {
      id: 'summarizeJobRuns',
      input: 'SummarizeJobRunsInput' as const,
      output: 'JobRunSummary' as const,
      run: async () => ({ succeeded: [{ dt: '2024-01-01' }], failed: [], succeededCount: 1, failedCount: 0 }),
    };
    const deps = { config: { stage: 'dev' } } as unknown as Deps;
    const handler = lambdaHandler(step, () => deps);
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
    try {
      await handler({ dataset: 'clicks', executionArn: 'arn:x', results: [] }, {
        functionName: 'f',
        awsRequestId: '1',
        getRemainingTimeInMillis: () => 1000,
      } as never);
    } finally {
      spy.mockRestore();
    }
    const emf = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((j) => '_aws' in j);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ stage: 'dev', dataset: 'clicks', PartitionsProcessed: 1, PartitionsFailed: 0 });
  });
});

describe('the freshness alarm window', () => {
  test('one period of the SLA up to a day, then whole days, refused beyond what CloudWatch looks back', () => {
    expect(freshnessWindow(90)).toEqual({ period: 5400, periods: 1 });
    expect(freshnessWindow(1440)).toEqual({ period: 86_400, periods: 1 });
    expect(freshnessWindow(2880)).toEqual({ period: 86_400, periods: 2 });
    expect(freshnessWindow(10_080)).toEqual({ period: 86_400, periods: 7 });
    expect(() => freshnessWindow(10_081, "dataset 'orders' freshnessSlaMinutes")).toThrow(
      "dataset 'orders' freshnessSlaMinutes is 10081: a CloudWatch alarm looks back at most 7 days (10080 minutes)",
    );
  });
});
