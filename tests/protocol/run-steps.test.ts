/**
 * The run steps' outputs and the release's two ways with a claim (domain/steps/run.ts), on the in-memory store.
 * Found by mutation testing (`npm run mutate`): the fast protocol tests reached these lines without asserting on
 * what they return (the state machine tests do, but they are too slow for a mutant run).
 */
import type { Log } from '../../domain/common';
import { claimArrivals, prepareRun, releaseLease } from '../../domain/steps';
import { parseConfig } from '../../domain/config/config';
import { fakeWorld, ORDERS_CONFIG } from '../support/fakes';

const log: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const ARN = 'arn:aws:states:eu-west-1:1:execution:sm:e1';
const P = { year: '2024', month: '01', day: '05' };
const PARTITION = 'year=2024/month=01/day=05';

async function land(w: ReturnType<typeof fakeWorld>) {
  await w.arrivals.recordArrival({
    dataset: 'orders',
    partitionKey: PARTITION,
    objectKey: `orders/${PARTITION}/a.csv`,
    sequencer: '1',
    size: 1,
    arrivedAt: '2024-03-01T10:00:00Z',
  });
}

test('an automatic run starts unsettled, waiting the quiet period, crawler not skipped', async () => {
  const w = fakeWorld();
  const out = await prepareRun({ request: { dataset: 'orders', trigger: 'arrival' }, executionArn: ARN }, w.deps, log);
  expect(out.run).toMatchObject({ mode: 'automatic', trigger: 'arrival', skipCrawler: false });
  expect(out.debounce).toMatchObject({ settled: false, waitSeconds: 60, partitionCount: 0 });
});

test('a manual run carries its partitions and its own skipCrawler (false unless asked)', async () => {
  const w = fakeWorld();
  const out = await prepareRun({ request: { dataset: 'orders', partitions: [P] }, executionArn: ARN }, w.deps, log);
  expect(out.run).toMatchObject({ mode: 'manual', skipCrawler: false });
  expect(out.debounce).toMatchObject({ items: expect.objectContaining({ count: 1 }) });
  const w2 = fakeWorld();
  const skip = await prepareRun(
    { request: { dataset: 'orders', partitions: [P], skipCrawler: true }, executionArn: ARN },
    w2.deps,
    log,
  );
  expect(skip.run).toMatchObject({ mode: 'manual', skipCrawler: true });
});

test('arrivals inside the quiet period are not claimed: wait, and they stay pending', async () => {
  const w = fakeWorld();
  await land(w);
  await prepareRun({ request: { dataset: 'orders', trigger: 'arrival' }, executionArn: ARN }, w.deps, log);
  const out = await claimArrivals({ dataset: 'orders', executionArn: ARN }, w.deps, log);
  expect(out).toMatchObject({ settled: false, partitionCount: 0 });
  expect(out.waitSeconds).toBeGreaterThan(0);
  expect(await w.arrivals.pendingSummary('orders')).not.toBeNull();
});

async function claimed(w: ReturnType<typeof fakeWorld>) {
  await land(w);
  await prepareRun({ request: { dataset: 'orders', trigger: 'arrival' }, executionArn: ARN }, w.deps, log);
  w.clock.advance(3600);
  const out = await claimArrivals({ dataset: 'orders', executionArn: ARN }, w.deps, log);
  expect(out).toMatchObject({ settled: true, partitionCount: 1 });
  expect(await w.arrivals.pendingSummary('orders')).toBeNull();
}

test('the release returns what the run neither processed nor notified, and a follow-up takes it', async () => {
  const w = fakeWorld();
  await claimed(w);
  const out = await releaseLease(
    { dataset: 'orders', executionArn: ARN, outcome: 'failed', runStartedAt: '2024-03-01T10:00:00Z', state: {} },
    w.deps,
    log,
  );
  expect(await w.arrivals.pendingSummary('orders')).not.toBeNull();
  expect(out).toMatchObject({ released: true, followUpExecutionArn: expect.any(String) });
});

test('without a run state (an older definition) the release forgets the claim as dealt with: nothing to follow up', async () => {
  const w = fakeWorld();
  await claimed(w);
  const out = await releaseLease(
    { dataset: 'orders', executionArn: ARN, outcome: 'succeeded', runStartedAt: '2024-03-01T10:00:00Z' },
    w.deps,
    log,
  );
  expect(await w.arrivals.pendingSummary('orders')).toBeNull();
  expect(out).toEqual({ released: true });
  expect(await w.leases.current('orders')).toBeNull();
});

// Found by `npx stryker run stryker.config.mjs --mutate domain/steps/run.ts`: the steps' whole outputs, the
// refused start, the claim cap and an empty claim were reached by the fast tests but not asserted.
const arrival = (w: ReturnType<typeof fakeWorld>, partitionKey: string, file: string, arrivedAt: string) =>
  w.arrivals.recordArrival({
    dataset: 'orders',
    partitionKey,
    objectKey: `orders/${partitionKey}/${file}.csv`,
    sequencer: file,
    size: 1,
    arrivedAt,
  });
const automatic = (w: ReturnType<typeof fakeWorld>, arn = ARN) =>
  prepareRun({ request: { dataset: 'orders', trigger: 'arrival' }, executionArn: arn }, w.deps, log);

test("an automatic run's whole first output: the Map's concurrency is the lower of fan-out and the job's limit", async () => {
  for (const [fanOut, jobRuns, expected] of [[5, 10, 5]] as const) {
    const config = parseConfig(
      {
        ...ORDERS_CONFIG,
        datasets: [
          {
            ...ORDERS_CONFIG.datasets[0],
            fanOut: { maxConcurrency: fanOut },
            job: { maxConcurrentRuns: jobRuns },
          },
        ],
      },
      'test config',
    );
    const w = fakeWorld(config);
    const before = w.clock.current;
    const out = await automatic(w);
    expect(out).toEqual({
      run: {
        dataset: 'orders',
        stage: 'test',
        executionArn: ARN,
        maxConcurrency: expected,
        artifactsBucket: 'sluice-test-artifacts',
        resultsPrefix: expect.stringMatching(/^runs\/.+\/map-results$/),
        mode: 'automatic',
        trigger: 'arrival',
        skipCrawler: false,
      },
      debounce: { settled: false, waitSeconds: 60, partitionCount: 0, claimedAt: expect.any(String) },
    });
    expect(Date.parse(out.debounce.claimedAt)).toBeGreaterThanOrEqual(before);
    expect((await w.leases.current('orders'))?.owner).toBe(ARN);
  }
});

test('a lower job limit than the fan-out is refused by the config, so the Map never runs past it', () => {
  // Why only min(fanOut, job) = fanOut is reachable with a valid config (maxConcurrency > maxConcurrentRuns is refused).
  expect(() =>
    parseConfig(
      {
        ...ORDERS_CONFIG,
        datasets: [{ ...ORDERS_CONFIG.datasets[0], fanOut: { maxConcurrency: 5 }, job: { maxConcurrentRuns: 3 } }],
      },
      'test config',
    ),
  ).toThrow(/maxConcurrentRuns/);
});

test('a manual crawl: true asks for the crawler; without it (or false) the output has no crawl field', async () => {
  for (const [crawl, expected] of [
    [true, { crawl: true }],
    [false, {}],
    [undefined, {}],
  ] as const) {
    const w = fakeWorld();
    const request = { dataset: 'orders', partitions: [P], ...(crawl === undefined ? {} : { crawl }) };
    const out = await prepareRun({ request, executionArn: ARN }, w.deps, log);
    const { crawl: got, ...rest } = out.run as typeof out.run & { crawl?: boolean };
    expect(got === undefined ? {} : { crawl: got }).toEqual(expected);
    expect(rest).toMatchObject({ mode: 'manual', skipCrawler: false, maxConcurrency: 5 });
  }
});

test('a run started while another holds the lease is refused, naming the holder, and the lease stays with it', async () => {
  const w = fakeWorld();
  await automatic(w);
  const other = 'arn:aws:states:eu-west-1:1:execution:sm:by-hand';
  await expect(automatic(w, other)).rejects.toMatchObject({
    name: 'LeaseHeldError',
    message: expect.stringContaining(ARN),
  });
  expect((await w.leases.current('orders'))?.owner).toBe(ARN);
});

test('nothing pending: settled at once with nothing claimed and no item list', async () => {
  const w = fakeWorld();
  await automatic(w);
  const out = await claimArrivals({ dataset: 'orders', executionArn: ARN }, w.deps, log);
  expect(out).toEqual({ settled: true, waitSeconds: 0, partitionCount: 0, claimedAt: expect.any(String) });
});

test('not settled: the whole output is the wait, with no item list and no arrival times', async () => {
  const w = fakeWorld();
  await automatic(w);
  await arrival(w, PARTITION, 'a', new Date(w.clock.current).toISOString());
  const out = await claimArrivals({ dataset: 'orders', executionArn: ARN }, w.deps, log);
  expect(out).toEqual({
    settled: false,
    waitSeconds: expect.any(Number),
    partitionCount: 0,
    claimedAt: expect.any(String),
  });
  expect(out.waitSeconds).toBeGreaterThan(0);
  expect(out.waitSeconds).toBeLessThanOrEqual(60);
});

test('settled: the claim names its partitions in an item list and carries the first and last arrival times', async () => {
  const w = fakeWorld();
  await automatic(w);
  const first = new Date(w.clock.current).toISOString(); // the ledger stamps arrivals with its clock
  await arrival(w, 'year=2024/month=01/day=05', 'a', first);
  w.clock.advance(30);
  const last = new Date(w.clock.current).toISOString();
  await arrival(w, 'year=2024/month=01/day=06', 'b', last);
  w.clock.advance(3600);
  const out = await claimArrivals({ dataset: 'orders', executionArn: ARN }, w.deps, log);
  expect(out).toEqual({
    settled: true,
    waitSeconds: 0,
    partitionCount: 2,
    items: expect.objectContaining({ count: 2 }),
    claimedAt: expect.any(String),
    firstArrivalAt: first,
    lastArrivalAt: last,
  });
});

test('the claim cap: at most maxClaimPartitions, the rest stays pending', async () => {
  const config = parseConfig(
    {
      ...ORDERS_CONFIG,
      datasets: [
        { ...ORDERS_CONFIG.datasets[0], debounce: { quietSeconds: 60, maxWaitSeconds: 300, maxClaimPartitions: 1 } },
      ],
    },
    'test config',
  );
  const w = fakeWorld(config);
  await automatic(w);
  await arrival(w, 'year=2024/month=01/day=05', 'a', '2024-03-01T09:00:00.000Z');
  await arrival(w, 'year=2024/month=01/day=06', 'b', '2024-03-01T09:30:00.000Z');
  w.clock.advance(3600);
  const out = await claimArrivals({ dataset: 'orders', executionArn: ARN }, w.deps, log);
  expect(out).toMatchObject({ settled: true, partitionCount: 1, items: expect.objectContaining({ count: 1 }) });
  expect(await w.arrivals.pendingSummary('orders')).toMatchObject({ partitions: 1 });
});

test('settled but the claim came back empty (taken meanwhile): no item list and no arrival times', async () => {
  const w = fakeWorld();
  await automatic(w);
  await arrival(w, PARTITION, 'a', '2024-03-01T09:00:00.000Z');
  w.clock.advance(3600);
  jest.spyOn(w.arrivals, 'claimPending').mockResolvedValueOnce([]);
  const out = await claimArrivals({ dataset: 'orders', executionArn: ARN }, w.deps, log);
  expect(out).toEqual({ settled: true, waitSeconds: 0, partitionCount: 0, claimedAt: expect.any(String) });
});

test("a retried release finds its lease handed on: released false, the follow-up's start re-issued, not another", async () => {
  const w = fakeWorld();
  await claimed(w);
  const input = {
    dataset: 'orders',
    executionArn: ARN,
    outcome: 'failed' as const,
    runStartedAt: '2024-03-01T10:00:00Z',
    state: {},
  };
  const first = await releaseLease(input, w.deps, log);
  expect(first).toEqual({ released: true, followUpExecutionArn: expect.any(String) });
  const again = await releaseLease(input, w.deps, log);
  expect(again).toEqual({ released: false });
  expect(w.executions.started).toHaveLength(1);
  expect((await w.leases.current('orders'))?.owner).toBe(first.followUpExecutionArn);
});

// Structured logs are what an operator searches by (the brief: dataset, partition, execution): each step's line
// says what it decided, with its figures, and only when it happened. Found by the same mutation run (log lines
// emptied or always/never written survived).
test("the steps' log lines: what each decided, with its figures, and only when it happened", async () => {
  const lines: Array<{ message: string; extra?: Record<string, unknown> }> = [];
  const recording: Log = {
    debug: (message, extra) => lines.push({ message, extra }),
    info: (message, extra) => lines.push({ message, extra }),
    warn: (message, extra) => lines.push({ message, extra }),
    error: (message, extra) => lines.push({ message, extra }),
  };
  const said = (pattern: RegExp) => lines.filter((l) => pattern.test(l.message)).map((l) => l.extra ?? null);

  const manual = fakeWorld();
  await prepareRun({ request: { dataset: 'orders', partitions: [P] }, executionArn: ARN }, manual.deps, recording);
  expect(said(/^manual run/)).toEqual([{ partitions: 1, skipCrawler: false }]);

  const w = fakeWorld();
  await prepareRun({ request: { dataset: 'orders', trigger: 'arrival' }, executionArn: ARN }, w.deps, recording);
  expect(said(/^automatic run/)).toEqual([{ trigger: 'arrival' }]);
  await claimArrivals({ dataset: 'orders', executionArn: ARN }, w.deps, recording);
  expect(said(/^nothing pending/)).toEqual([null]);
  await arrival(w, PARTITION, 'a', new Date(w.clock.current).toISOString());
  const wait = await claimArrivals({ dataset: 'orders', executionArn: ARN }, w.deps, recording);
  expect(said(/not settled yet/)).toEqual([{ waitSeconds: wait.waitSeconds, pendingPartitions: 1 }]);
  w.clock.advance(3600);
  await claimArrivals({ dataset: 'orders', executionArn: ARN }, w.deps, recording);
  expect(said(/^claimed settled arrivals/)).toEqual([{ partitions: 1 }]);

  const release = {
    dataset: 'orders',
    executionArn: ARN,
    outcome: 'failed' as const,
    runStartedAt: '2024-03-01T10:00:00Z',
  };
  lines.length = 0;
  await releaseLease({ ...release, state: {} }, w.deps, recording); // nothing processed: the claim goes back
  expect(said(/went back to pending/)).toEqual([{ partitions: 1 }]);
  expect(said(/lease not held/)).toEqual([]);
  lines.length = 0;
  await releaseLease({ ...release, state: {} }, w.deps, recording); // the retry: nothing back, lease handed on
  expect(said(/went back to pending/)).toEqual([]);
  expect(said(/lease not held/)).toEqual([null]);
});
