/**
 * Issue 23 item 6: a run's cost from AWS's figures and from the model (domain/cost/run-cost-report.ts), priced by the one
 * cost model (domain/cost/run-costs.ts).
 */
import {
  billedCrawlDollars,
  billedJobRunDollars,
  billedRunCost,
  formatRunCost,
  formatRunCostShort,
  jobRunCapacity,
  modelledRunCost,
} from '../../domain/cost/run-cost-report';
import { RUN_COST_MODEL } from '../../domain/cost';

const perDpuSecond = RUN_COST_MODEL.glueDpuHourUsd / 3600;

test('a job run: DPUSeconds when Glue reports it, else ExecutionTime x capacity; 1-minute minimum either way', () => {
  // 2 G.1X workers for 90 s: 180 DPU-seconds.
  expect(billedJobRunDollars({ ExecutionTime: 90, NumberOfWorkers: 2, WorkerType: 'G.1X' })).toBeCloseTo(
    180 * perDpuSecond,
    10,
  );
  // 10 s bills the minute: 2 DPU x 60 s.
  expect(billedJobRunDollars({ ExecutionTime: 10, NumberOfWorkers: 2, WorkerType: 'G.1X' })).toBeCloseTo(
    120 * perDpuSecond,
    10,
  );
  // G.2X doubles the DPUs; MaxCapacity when there are no workers.
  expect(jobRunCapacity({ NumberOfWorkers: 5, WorkerType: 'G.2X' })).toBe(10);
  expect(jobRunCapacity({ MaxCapacity: 3 })).toBe(3);
  // DPUSeconds (auto scaling) wins over ExecutionTime x capacity; Flex at its own price.
  expect(
    billedJobRunDollars({ DPUSeconds: 500, ExecutionTime: 400, NumberOfWorkers: 5, WorkerType: 'G.1X' }),
  ).toBeCloseTo(500 * perDpuSecond, 10);
  expect(
    billedJobRunDollars({ DPUSeconds: 500, ExecutionClass: 'FLEX', NumberOfWorkers: 2, WorkerType: 'G.1X' }),
  ).toBeCloseTo((500 * RUN_COST_MODEL.glueFlexDpuHourUsd) / 3600, 10);
  // The DPUSeconds of a short run still bills the minute at its capacity.
  expect(billedJobRunDollars({ DPUSeconds: 20, NumberOfWorkers: 2, WorkerType: 'G.1X' })).toBeCloseTo(
    120 * perDpuSecond,
    10,
  );
});

test('a crawl: its DPU-hours, at least the 10-minute minimum', () => {
  const minimum = (600 / 3600) * RUN_COST_MODEL.crawlerDpuHourUsd;
  expect(billedCrawlDollars({ DPUHour: 0.05 })).toBeCloseTo(minimum, 10);
  expect(billedCrawlDollars({ DPUHour: 0.5 })).toBeCloseTo(0.5 * RUN_COST_MODEL.crawlerDpuHourUsd, 10);
  // No DPUHour: the crawl's duration at the model's crawler DPU.
  const start = new Date('2026-01-01T00:00:00Z');
  expect(billedCrawlDollars({ StartTime: start, EndTime: new Date(start.getTime() + 3600_000) })).toBeCloseTo(
    RUN_COST_MODEL.crawlerDpuHourUsd,
    10,
  );
});

test('a run: the parts add up, Athena by bytes scanned, Step Functions by transitions', () => {
  const cost = billedRunCost({
    jobRuns: [{ ExecutionTime: 90, NumberOfWorkers: 2, WorkerType: 'G.1X' }],
    crawls: [{ DPUHour: 0.05 }],
    scannedBytes: [1e12, 0],
    transitions: 1000,
  });
  expect(cost.athena).toBeCloseTo(5, 10);
  expect(cost.stepFunctions).toBeCloseTo(0.025, 10);
  expect(cost.total).toBeCloseTo(cost.glue + cost.crawler + cost.athena + cost.stepFunctions, 12);
  expect(cost).toMatchObject({ basis: 'billed', counts: { jobRuns: 1, crawls: 1, queries: 2, transitions: 1000 } });
  expect(formatRunCost(cost)).toBe('$5.12 (glue $0.0220, crawler $0.0733, athena $5.00, step functions $0.0250)');
});

test('a local run is modelled, and says so', () => {
  const cost = modelledRunCost({ jobRunBytes: [0, 0], dpu: 2, crawls: 1, transitions: 40 });
  // Each job run: 30 s start-up, billed as the 60 s minimum at 2 DPU.
  expect(cost.glue).toBeCloseTo(2 * 120 * perDpuSecond, 10);
  expect(cost.basis).toBe('modelled');
  expect(formatRunCostShort(cost)).toBe('$0.1037 (modelled)');
  expect(formatRunCost(cost)).toMatch(/; modelled\)$/);
});
