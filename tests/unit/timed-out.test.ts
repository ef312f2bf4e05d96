/**
 * Issue 23, item 3: a TIMED_OUT execution, through the status-change handler on the in-memory ledger and leases.
 * Deterministic: a ticking clock, no sleeps (the registration's waits are replaced).
 */
import { datasetNamed, partitionFromKey } from '../../domain/config';
import { jobSummaryLocation } from '../../domain/rows';
import { catchUpAll, RUN_LEASE_SECONDS } from '../../domain/runs';
import { writePartitionList } from '../../domain/inputs';
import { jobRunKey } from '../../domain/steps/jobs';
import { backoffHolder, TIMED_OUT_BACKOFF_SECONDS, timedOutWaits } from '../../domain/steps/timed-out';
import { onExecutionStatusChange } from '../../functions/on-execution-status-change';
import { fakeWorld, type FakeWorld } from '../support/fakes';
import { recordingLog } from '../support/waits';

const EXEC = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:orders-arrival-timed-out';
const DAYS = ['01', '02', '03', '04', '05'];

timedOutWaits.sleep = async () => undefined;

/** Five partitions claimed by EXEC, which holds the lease; the first `converted` have their job summary. */
async function timedOutRun(converted: number): Promise<FakeWorld> {
  const world = fakeWorld();
  const dataset = datasetNamed(world.deps.config, 'orders');
  for (const [i, day] of DAYS.entries())
    await world.arrivals.recordArrival({
      dataset: 'orders',
      partitionKey: `year=2024/month=03/day=${day}`,
      objectKey: `orders/year=2024/month=03/day=${day}/part-${i}.csv`,
      sequencer: `00${i}`,
      size: 100,
      arrivedAt: '2024-03-01T09:00:00Z',
    });
  expect(await world.leases.acquire('orders', EXEC, world.clock.now(), RUN_LEASE_SECONDS)).toBe(true);
  const keys = await world.arrivals.claimPending('orders', EXEC, world.clock.now());
  expect(keys).toHaveLength(5);
  const partitions = keys.map((k) => partitionFromKey(dataset, k)).sort((a, b) => a.day!.localeCompare(b.day!));
  await writePartitionList(world.artifacts, EXEC, partitions);
  for (const key of [...keys].sort().slice(0, converted))
    await world.artifacts.put(
      jobSummaryLocation(world.artifacts.bucket, 'orders', jobRunKey(EXEC, key)),
      JSON.stringify({ rowsIn: 1 }),
    );
  return world;
}

const timedOut = (world: FakeWorld) =>
  onExecutionStatusChange(
    {
      detail: {
        executionArn: EXEC,
        status: 'TIMED_OUT',
        input: JSON.stringify({ dataset: 'orders', trigger: 'arrival' }),
      },
    },
    world.deps,
    recordingLog(),
  );

test('converted partitions are registered, only the others go back to pending, and nothing starts at once', async () => {
  const world = await timedOutRun(2);
  const outcome = await timedOut(world);

  expect(outcome).toMatchObject({ handled: true, registered: 2, returned: 3, notified: true });
  const sql = world.queries.started.map((q) => q.sql).join('\n');
  expect(sql.match(/PARTITION \(/g)).toHaveLength(2);
  expect(sql).toContain('`day` = 1)');
  expect(sql).toContain('`day` = 2)');
  expect(sql).not.toContain('`day` = 3)');
  expect((await world.arrivals.pendingSummary('orders'))?.partitions).toBe(3);
  expect(await world.arrivals.claimOwners('orders')).toEqual([]);
  expect(world.executions.started).toEqual([]); // no follow-up at once
  const lease = await world.leases.current('orders');
  expect(lease?.owner).toBe(backoffHolder(EXEC));
  expect(lease?.starting).toBeUndefined();
  expect(world.notifier.published).toHaveLength(1);
  expect(world.notifier.published[0]!.subject).toContain('timed out');
  expect(world.notifier.published[0]!.message).toContain('2 partitions converted before the time-out were registered');
});

test('the event delivered again: nothing new registered, returned or notified', async () => {
  const world = await timedOutRun(2);
  await timedOut(world);
  const queries = world.queries.started.length;
  const again = await timedOut(world);
  expect(again).toMatchObject({ handled: true, returned: 0, notified: false });
  expect(world.queries.started).toHaveLength(queries); // same ClientRequestTokens: the same queries
  expect(world.notifier.published).toHaveLength(1);
  expect((await world.arrivals.pendingSummary('orders'))?.partitions).toBe(3);
});

test('back-off: the catch-up starts the follow-up only after the back-off, and it claims only the rest', async () => {
  const world = await timedOutRun(2);
  await timedOut(world);
  await catchUpAll(world.deps, recordingLog());
  expect(world.executions.started).toEqual([]);
  world.clock.advance(TIMED_OUT_BACKOFF_SECONDS - 60);
  await catchUpAll(world.deps, recordingLog());
  expect(world.executions.started).toEqual([]);
  world.clock.advance(120);
  await catchUpAll(world.deps, recordingLog());
  expect(world.executions.started).toHaveLength(1);
  const followUp = world.executions.executionArnFor(world.executions.started[0]!.name);
  expect(await world.leases.acquire('orders', followUp, world.clock.now(), RUN_LEASE_SECONDS)).toBe(true);
  const claimed = await world.arrivals.claimPending('orders', followUp, world.clock.now());
  expect(claimed.sort()).toEqual([
    'year=2024/month=03/day=03',
    'year=2024/month=03/day=04',
    'year=2024/month=03/day=05',
  ]);
});

test('nothing converted: the whole claim goes back, still after a back-off, and one notification', async () => {
  const world = await timedOutRun(0);
  const outcome = await timedOut(world);
  expect(outcome).toMatchObject({ registered: 0, returned: 5, notified: true });
  expect(world.queries.started).toEqual([]);
  expect(world.executions.started).toEqual([]);
});

test('FAILED and ABORTED keep their path: the lease goes to a follow-up at once', async () => {
  const world = await timedOutRun(2);
  await onExecutionStatusChange(
    {
      detail: {
        executionArn: EXEC,
        status: 'ABORTED',
        input: JSON.stringify({ dataset: 'orders', trigger: 'arrival' }),
      },
    },
    world.deps,
    recordingLog(),
  );
  expect(world.executions.started).toHaveLength(1);
  expect(world.notifier.published).toEqual([]);
});
