/**
 * Issue 23 item 6: the failure notification carries the run's cost so far (deps.runCosts), as a line of the message
 * and in the machine-readable report, and RunCostUSD is derived from it. Reading the cost never fails the
 * notification.
 */
import { stepMetrics } from '../../domain/metrics';
import type { Log } from '../../domain/common';
import { type RunCostPort, billedRunCost } from '../../domain/cost';
import { notifyFailure } from '../../domain/steps';
import { fakeWorld } from '../support/fakes';

const warnings: string[] = [];
const log: Log = { debug: () => {}, info: () => {}, warn: (m: string) => void warnings.push(m), error: () => {} };
const ARN = 'arn:aws:states:eu-west-1:1:execution:sm:e1';
const input = {
  executionArn: ARN,
  state: {
    run: {
      dataset: 'orders',
      stage: 'test',
      mode: 'manual' as const,
      executionArn: ARN,
      skipCrawler: false,
      maxConcurrency: 5,
    },
    partitions: [{ year: '2024', month: '01', day: '05' }],
    failure: { startPartitionRefresh: { Error: 'AthenaQueryFailedError', Cause: 'nope' } },
  },
};
const cost = billedRunCost({
  jobRuns: [{ ExecutionTime: 90, NumberOfWorkers: 2, WorkerType: 'G.1X' }],
  crawls: [{ DPUHour: 0.05 }],
  scannedBytes: [0],
  transitions: 40,
});

test('the message has a cost line and the report the cost; RunCostUSD follows it', async () => {
  const w = fakeWorld();
  const asked: string[] = [];
  const runCosts: RunCostPort = { costOf: async (arn, dataset) => (asked.push(`${arn} ${dataset}`), cost) };
  const out = await notifyFailure(input, { ...w.deps, runCosts }, log);
  expect(asked).toEqual([`${ARN} orders`]);
  expect(out.report.cost).toEqual(cost);
  expect(w.notifier.published[0]!.message).toContain(
    'Cost so far:  $0.0963 (glue $0.0220, crawler $0.0733, athena $0.0000, step functions $0.0010)',
  );
  const points = stepMetrics('notifyFailure', input, out, new Date());
  expect(points.find((p) => p.name === 'RunCostUSD')).toEqual({
    name: 'RunCostUSD',
    value: cost.total,
    dataset: 'orders',
  });
});

test('a cost that cannot be read leaves the line out; the notification still goes', async () => {
  const w = fakeWorld();
  const runCosts: RunCostPort = {
    costOf: async () => {
      throw new Error('AccessDenied');
    },
  };
  const out = await notifyFailure(input, { ...w.deps, runCosts }, log);
  expect(out.report.cost).toBeUndefined();
  expect(w.notifier.published[0]!.message).not.toContain('Cost so far');
  expect(warnings).toContain('run cost not read');
  expect(stepMetrics('notifyFailure', input, out, new Date()).map((p) => p.name)).toEqual(['RunsFailed']);
});
