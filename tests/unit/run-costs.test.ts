import {
  RUN_COST_MODEL,
  athenaScanDollars,
  costSplit,
  crawlDollars,
  jobRunDollars,
  jobRunSeconds,
  transitionDollars,
  wallSecondsOf,
} from '../../domain/cost/run-costs';

describe('the run cost model', () => {
  test('a small job run pays the 1-minute minimum at 2 DPU: $0.0147 (issue 23)', () => {
    expect(jobRunSeconds(10e6, 2)).toBeCloseTo(30.2, 5);
    expect(jobRunDollars(jobRunSeconds(10e6, 2), 2)).toBeCloseTo((60 * 2 * 0.44) / 3600, 10);
    expect(jobRunDollars(1, 1)).toBeCloseTo(jobRunDollars(1, 2), 10);
  });

  test('past the minimum, Glue bills per second; Flex at $0.29', () => {
    expect(jobRunDollars(3600, 2)).toBeCloseTo(0.88, 10);
    expect(jobRunDollars(3600, 2, { flex: true })).toBeCloseTo(0.58, 10);
    expect(jobRunSeconds(50e9, 4)).toBeCloseTo(30 + 500, 5);
  });

  test('a crawl pays its 10-minute minimum', () => {
    expect(crawlDollars(30)).toBeCloseTo((600 * RUN_COST_MODEL.crawlerDpu * 0.44) / 3600, 10);
    expect(crawlDollars(1200)).toBeCloseTo(2 * crawlDollars(30), 10);
  });

  test('Athena scans at $5/TB, transitions at $0.025 per 1,000', () => {
    expect(athenaScanDollars(2e12)).toBeCloseTo(10, 10);
    expect(transitionDollars(4000)).toBeCloseTo(0.1, 10);
  });

  test('wall time packs job runs into the concurrency slots in order', () => {
    expect(wallSecondsOf([10, 10, 10, 10, 10], 5)).toBe(10);
    expect(wallSecondsOf([10, 10, 10, 10, 10, 10], 5)).toBe(20);
    expect(wallSecondsOf([30, 10, 10, 10], 2)).toBe(30);
    expect(wallSecondsOf([], 3)).toBe(0);
    expect(wallSecondsOf([5, 5], 0)).toBe(10);
  });

  test('the split adds up', () => {
    expect(costSplit({ glue: 1, crawler: 0.5, athena: 0.25, stepFunctions: 0.125 }).total).toBe(1.875);
  });
});

test('one Step Functions price: the run model and the waits model agree', async () => {
  const { PRICE } = await import('../../domain/cost/wait-costs');
  expect(RUN_COST_MODEL.transitionUsd).toBe(PRICE.transition);
});
