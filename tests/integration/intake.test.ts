/**
 * Arrival intake, debounce store and run lease against a real DynamoDB API on loopback (dynalite):
 * conditional-write semantics are the point, so no mocks here.
 */
import { performance } from 'node:perf_hooks';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoArrivalLedger } from '../../adapters/aws/dynamo-state';
import { encodeS3Key } from '../../adapters/local/lake';
import { acceptObjectCreated } from '../../domain/intake/arrival';
import type { Log } from '../../domain/common';
import { releaseLeaseOfDeadExecution, STARTUP_LEASE_SECONDS } from '../../domain/runs/protocol';
import { releaseLease } from '../../domain/steps';
import { dynamoWorld, startDynamo, type LocalDynamo } from '../support/dynamo';
import { objectEvent } from '../support/events';
import { fakeWorld } from '../support/fakes';

const log: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});

// The single-record path (onArrival: dead-letter replay). Both intakes now take bursts in batches; the 10,000-object
// burst is in intake-batch.test.ts and the 100,000 one in the bench. Skipped under mutation testing: ~5 s per mutant.
(process.env.SLUICE_MUTATION_RUN ? test.skip : test)(
  'a burst of 2,000 single-record events (10% duplicates, shuffled) over 24 partitions yields one execution and 24 claimed partitions',
  async () => {
    const w = fakeWorld(); // the in-memory DynamoDB (held equal to moto): moto takes minutes for this burst
    w.clock.stepMs = 0; // the burst lands within one instant, as on dynamoWorld's clock
    const events = Array.from({ length: 1_800 }, (_, i) => {
      const hour = i % 24;
      return objectEvent(
        `orders/year=2024/month=03/day=01/h${String(hour).padStart(2, '0')}-part-${i}.csv`.replace(
          /h(\d\d)-/,
          (_m, h) => `hour-${h}-`,
        ),
        (i + 1).toString(16).toUpperCase(),
      );
    });
    // 24 partitions: spread the files over 24 days instead of one.
    const spread = events.map((e, i) => {
      const day = String((i % 24) + 1).padStart(2, '0');
      const key = `orders/year=2024/month=03/day=${day}/part-${i}.csv`;
      return { ...e, detail: { ...e.detail, object: { ...e.detail.object, key: encodeS3Key(key) } } };
    });
    const all = [...spread, ...spread.slice(0, 200)];
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor((((i * 7919) % 10_007) / 10_007) * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    const started = performance.now();
    const outcomes: string[] = [];
    const WORKERS = 16;
    const workers = Array.from({ length: WORKERS }, async (_, worker) => {
      for (let i = worker; i < all.length; i += WORKERS)
        outcomes.push((await acceptObjectCreated(all[i], w.deps, log)).status);
    });
    // allSettled: a failing worker must not end the test (and close dynalite) under the 15 others.
    const settled = await Promise.allSettled(workers);
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `intake burst: ${all.length} events in ${seconds.toFixed(2)} s = ${Math.round(all.length / seconds)} events/s (in-memory DynamoDB, 16 concurrent)`,
    );

    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1_800);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(200);
    expect(new Set(w.executions.started.map((s) => s.name)).size).toBe(1); // one execution (its start may be re-issued)
    const run = w.executions.executionArnFor(w.executions.started[0]!.name); // only the lease holder claims
    const claimed = await w.deps.arrivals.claimPending('orders', run, w.clock.now());
    expect(claimed).toHaveLength(24);
    expect(await w.deps.arrivals.pendingSummary('orders')).toBeNull();
    // No time limit that a loaded machine could miss: the burst takes a few seconds here, and jest's timeout is a hang guard.
  },
  1_800_000,
);

describe('malformed events are rejected with a reason and do not stop the batch', () => {
  const good = objectEvent('orders/year=2024/month=03/day=01/good file ü.csv');
  const cases: Array<[string, unknown, RegExp]> = [
    ['missing detail', { ...good, detail: undefined }, /must have required property 'detail'/],
    [
      'wrong bucket',
      objectEvent('orders/year=2024/month=03/day=01/a.csv', '01', {
        detail: { ...good.detail, bucket: { name: 'other-bucket' } },
      }),
      /not the raw bucket/,
    ],
    ['key with ..', objectEvent('orders/year=2024/month=03/day=01/../../etc/passwd'), /'\.\.'/],
    ['key with a quote in a partition value', objectEvent("orders/year=2024'/month=03/day=01/a.csv"), /does not match/],
    [
      'zero-byte object',
      { ...good, detail: { ...good.detail, object: { ...good.detail.object, size: 0 } } },
      /zero-byte/,
    ],
    ['folder marker', objectEvent('orders/year=2024/month=03/day=01/'), /folder marker/],
    [
      'zero-byte folder marker (as the console creates it)',
      (() => {
        const marker = objectEvent('orders/year=2024/month=03/day=01/');
        return { ...marker, detail: { ...marker.detail, object: { ...marker.detail.object, size: 0 } } };
      })(),
      /folder marker/,
    ],
    [
      'bad URL encoding',
      { ...good, detail: { ...good.detail, object: { ...good.detail.object, key: 'orders/%E0%A4%A' } } },
      /URL encoding/,
    ],
    ['not an S3 event', { hello: 'world' }, /not an S3 Object Created event/],
  ];
  test.each(cases)('%s', async (_name, event, reason) => {
    const w = await dynamoWorld(dynamo);
    const outcome = await acceptObjectCreated(event, w.deps, log);
    expect(outcome.status).toBe('rejected');
    expect(outcome.status === 'rejected' ? outcome.reason : '').toMatch(reason);
    const next = await acceptObjectCreated(good, w.deps, log);
    expect(next).toMatchObject({ status: 'accepted', key: 'orders/year=2024/month=03/day=01/good file ü.csv' });
  });
});

test('a crash in the recording transaction loses nothing on retry (marker and pending are written together)', async () => {
  const w = await dynamoWorld(dynamo);
  const ledger = w.deps.arrivals as DynamoArrivalLedger;
  const original = dynamo.doc.send.bind(dynamo.doc);
  let crashed = false;
  const spy = jest.spyOn(dynamo.doc, 'send').mockImplementation(((command: unknown) => {
    if (!crashed && command instanceof TransactWriteCommand) {
      crashed = true;
      return Promise.reject(Object.assign(new Error('Lambda timed out'), { name: 'TimeoutError' }));
    }
    return original(command as never);
  }) as never);
  const event = objectEvent('orders/year=2024/month=03/day=02/a.csv');
  await expect(acceptObjectCreated(event, w.deps, log)).rejects.toMatchObject({ name: 'AwsThrottledError' });
  await expect(acceptObjectCreated(event, w.deps, log)).resolves.toMatchObject({ status: 'accepted' });
  spy.mockRestore();
  const run = w.executions.executionArnFor(w.executions.started[0]!.name); // only the lease holder claims
  expect(await ledger.claimPending('orders', run)).toEqual(['year=2024/month=03/day=02']);
  await expect(acceptObjectCreated(event, w.deps, log)).resolves.toMatchObject({
    status: 'duplicate',
    startedExecution: null,
  });
});

describe('the run lease', () => {
  test('is exclusive until it expires; the expiry is checked inside the conditional write', async () => {
    const w = await dynamoWorld(dynamo);
    const t0 = new Date('2024-03-01T10:00:00Z');
    expect(await w.deps.leases.acquire('orders', 'A', t0, 60)).toBe(true);
    expect(await w.deps.leases.acquire('orders', 'B', new Date(t0.getTime() + 59_000), 60)).toBe(false);
    expect(await w.deps.leases.acquire('orders', 'B', new Date(t0.getTime() + 61_000), 60)).toBe(true);
    expect(await w.deps.leases.release('orders', 'A')).toBe(false);
    expect((await w.deps.leases.current('orders'))?.owner).toBe('B');
  });

  test('release, then a new arrival: the intake starts the next run', async () => {
    const w = await dynamoWorld(dynamo);
    await acceptObjectCreated(objectEvent('orders/year=2024/month=03/day=01/a.csv', '01'), w.deps, log);
    const owner = w.executions.executionArnFor(w.executions.started[0]!.name);
    await w.deps.arrivals.claimPending('orders', owner, w.clock.now());
    await releaseLease(
      { dataset: 'orders', executionArn: owner, outcome: 'succeeded', runStartedAt: '2024-03-01T09:00:00Z' },
      w.deps,
      log,
    );
    await acceptObjectCreated(objectEvent('orders/year=2024/month=03/day=02/b.csv', '02'), w.deps, log);
    expect(new Set(w.executions.started.map((s) => s.name)).size).toBe(2);
  });

  test('a new arrival, then release: the ending run starts the follow-up', async () => {
    const w = await dynamoWorld(dynamo);
    await acceptObjectCreated(objectEvent('orders/year=2024/month=03/day=01/a.csv', '01'), w.deps, log);
    const owner = w.executions.executionArnFor(w.executions.started[0]!.name);
    await w.deps.arrivals.claimPending('orders', owner, w.clock.now());
    await acceptObjectCreated(objectEvent('orders/year=2024/month=03/day=02/b.csv', '02'), w.deps, log);
    // The run is still active (its start-up lease: the fake runs no execution): the intake only makes sure its
    // StartExecution was made (the same name again), and leaves the arrival to it.
    expect(new Set(w.executions.started.map((s) => s.name)).size).toBe(1);
    const out = await releaseLease(
      { dataset: 'orders', executionArn: owner, outcome: 'succeeded', runStartedAt: '2024-03-01T09:00:00Z' },
      w.deps,
      log,
    );
    expect(out.followUpExecutionArn).toBeDefined();
    expect(new Set(w.executions.started.map((s) => s.name)).size).toBe(2);
  });

  test('an aborted execution has its lease released by the status-change handler, which restarts pending work', async () => {
    const w = await dynamoWorld(dynamo);
    await acceptObjectCreated(objectEvent('orders/year=2024/month=03/day=01/a.csv', '01'), w.deps, log);
    const dead = w.executions.executionArnFor(w.executions.started[0]!.name);
    const out = await releaseLeaseOfDeadExecution(
      { detail: { executionArn: dead, status: 'ABORTED', input: '{"dataset":"orders","trigger":"arrival"}' } },
      w.deps,
      log,
    );
    expect(out.released).toBe(true);
    expect(out.followUp).not.toBeNull();
    expect(w.executions.started).toHaveLength(2);
  });

  test('a start-up lease whose execution never started frees itself within its bound', async () => {
    const w = await dynamoWorld(dynamo);
    expect(await w.deps.leases.acquire('orders', 'never-started', w.clock.now(), STARTUP_LEASE_SECONDS)).toBe(true);
    w.clock.advance(STARTUP_LEASE_SECONDS + 1);
    await acceptObjectCreated(objectEvent('orders/year=2024/month=03/day=01/a.csv', '01'), w.deps, log);
    expect(w.executions.started).toHaveLength(1);
  });
});
