/**
 * The run steps' outputs and the release's two ways with a claim (domain/steps/run.ts), on the in-memory store.
 * Found by mutation testing (`npm run mutate`): the fast protocol tests reached these lines without asserting on
 * what they return (the state machine tests do, but they are too slow for a mutant run).
 */
import type { Log } from '../../domain/ports';
import { claimArrivals, prepareRun, releaseLease } from '../../domain/steps/run';
import { fakeWorld } from '../support/fakes';

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
