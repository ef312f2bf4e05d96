/**
 * Small promises of the run protocol that the fault tests (tests/integration/intake-faults.test.ts) take for
 * granted, against a real DynamoDB API (dynalite). Found by mutation testing (`npm run mutate`): each test here
 * kills mutants that every other guard let live (see /tmp/sluice-notes/10-note.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { MemoryArrivalLedger, MemoryRunLeases } from '../../adapters/memory/state';
import { defaultClaimLimits, decideSettled } from '../../domain/runs';
import { acceptObjectCreated } from '../../domain/intake/arrival';
import type { Log } from '../../domain/common';
import { executionNameFor } from '../../domain/config';
import {
  catchUpAll,
  releaseLeaseOfDeadExecution,
  returnClaimsOfOthers,
  RUN_LEASE_SECONDS,
  RUN_TIMEOUT_SECONDS,
  startRunIfNeeded,
  STARTUP_LEASE_SECONDS,
} from '../../domain/runs/protocol';
import { claimArrivals, prepareRun, releaseLease } from '../../domain/steps';
import { dynamoWorld, injectFaults, startDynamo, type LocalDynamo } from '../support/dynamo';
import { objectEvent } from '../support/events';
import { TickingClock } from '../support/fakes';

const log: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});
afterEach(() => jest.restoreAllMocks());

type World = Awaited<ReturnType<typeof dynamoWorld>>;
const day = (d: number) => `year=2024/month=03/day=${String(d).padStart(2, '0')}`;
const land = (w: World, d: number, file = 'a') =>
  acceptObjectCreated(objectEvent(`orders/${day(d)}/${file}.csv`, `${d}${file}`.toUpperCase()), w.deps, log);
const WRITES = new Set(['PutCommand', 'UpdateCommand', 'DeleteCommand']);

/**
 * Only the lease holder claims or returns (each transaction checks it): these tests of the ledger alone take the
 * lease for whoever claims or returns first, as the run's first step (or a takeover) would have.
 */
function holdFirst<
  W extends {
    deps: {
      arrivals: import('../../domain/runs/ports').ArrivalLedger;
      leases: import('../../domain/runs/ports').RunLeaseStore;
    };
  },
>(w: W): W {
  const { arrivals, leases } = w.deps;
  let day = 0; // each take is a day later than the last, so the previous holder's lease has expired
  const take = (owner: string) =>
    leases.acquire('orders', owner, new Date(Date.parse('2099-01-01T00:00:00Z') + ++day * 86_400_000), 60);
  const claim = arrivals.claimPending.bind(arrivals);
  const back = arrivals.returnClaim.bind(arrivals);
  arrivals.claimPending = async (dataset, arn, now, limits) => (await take(arn), claim(dataset, arn, now, limits));
  arrivals.returnClaim = async (dataset, arn, keep, options) => (
    await take(options?.holder ?? arn),
    back(dataset, arn, keep, options)
  );
  return w;
}

describe('the pending summary that the debounce decides on', () => {
  test('spans every pending partition: the maximum wait counts from the oldest arrival, quiet from the newest', async () => {
    const w = await dynamoWorld(dynamo);
    const t0 = w.clock.now().getTime();
    await land(w, 1);
    w.clock.advance(100);
    await land(w, 3); // the newest and the oldest are neither the first nor the last partition read
    w.clock.advance(150);
    await land(w, 2);
    w.clock.advance(10);
    const summary = await w.deps.arrivals.pendingSummary('orders');
    expect(summary).toEqual({
      partitions: 3,
      firstArrivalAt: new Date(t0).toISOString(),
      lastArrivalAt: new Date(t0 + 250_000).toISOString(),
    });
    // 40 s to the maximum wait (300 s from the oldest), 50 s to quiet: the shorter one wins.
    expect(decideSettled(summary!, new Date(t0 + 260_000), { quietSeconds: 60, maxWaitSeconds: 300 })).toEqual({
      settled: false,
      waitSeconds: 40,
    });
  });

  test('a claim given back keeps its arrivals’ times, so the maximum wait still counts from the first arrival', async () => {
    const w = holdFirst(await dynamoWorld(dynamo));
    const t0 = w.clock.now().getTime();
    await land(w, 1);
    w.clock.advance(10);
    await land(w, 2);
    w.clock.advance(5);
    await land(w, 3);
    w.clock.advance(100);
    expect(await w.deps.arrivals.claimPending('orders', 'arn:dead', w.clock.now())).toEqual([day(1), day(2), day(3)]);
    w.clock.advance(1_000);
    expect(await w.deps.arrivals.returnClaim('orders', 'arn:dead')).toEqual([day(1), day(2), day(3)]);
    expect(await w.deps.arrivals.pendingSummary('orders')).toEqual({
      partitions: 3,
      firstArrivalAt: new Date(t0).toISOString(),
      lastArrivalAt: new Date(t0 + 15_000).toISOString(),
    });
  });
});

describe('the DynamoDB ledger keeps its port’s promises', () => {
  const arrival = (d: number, sequencer = `0${d}`) => ({
    dataset: 'orders',
    partitionKey: day(d),
    objectKey: `orders/${day(d)}/a.csv`,
    sequencer,
    size: 1,
    arrivedAt: '2024-03-01T10:00:00Z',
  });

  test('an arrival is new once, then a duplicate; nothing pending and no claim is an empty claim', async () => {
    const w = await dynamoWorld(dynamo);
    expect(await w.deps.arrivals.claimPending('orders', 'arn:run', w.clock.now())).toEqual([]);
    expect(await w.deps.arrivals.recordArrival(arrival(1))).toEqual({ duplicate: false });
    expect(await w.deps.arrivals.recordArrival(arrival(1))).toEqual({ duplicate: true });
    expect(await w.deps.arrivals.recordArrival(arrival(1, '02'))).toEqual({ duplicate: false });
  });

  test('two deliveries of one event racing each other: exactly one of them is the original', async () => {
    const w = await dynamoWorld(dynamo);
    const event = objectEvent(`orders/${day(1)}/a.csv`, '1A');
    const original = dynamo.doc.send.bind(dynamo.doc) as (command: unknown) => Promise<unknown>;
    let second: Promise<{ status: string }> | undefined;
    // The first delivery has read "no marker" and opened the partition; the second runs to its end in between.
    jest.spyOn(dynamo.doc, 'send').mockImplementation((async (command: unknown) => {
      if (command instanceof TransactWriteCommand && !second) {
        second = acceptObjectCreated(event, w.deps, log);
        await second;
      }
      return original(command);
    }) as never);
    const first = await acceptObjectCreated(event, w.deps, log);
    expect([first.status, (await second!).status]).toEqual(['duplicate', 'accepted']);
    expect(new Set(w.executions.started.map((s) => s.name)).size).toBe(1); // one execution (its start may be re-issued)
  });

  test('a claim given back, except what is kept, is pending again and forgotten; a forgotten claim is gone', async () => {
    const w = holdFirst(await dynamoWorld(dynamo));
    for (const d of [1, 2, 3]) await w.deps.arrivals.recordArrival(arrival(d));
    expect(await w.deps.arrivals.claimPending('orders', 'arn:a', w.clock.now())).toEqual([day(1), day(2), day(3)]);
    expect(await w.deps.arrivals.returnClaim('orders', 'arn:a', [day(2)])).toEqual([day(1), day(3)]);
    expect((await w.deps.arrivals.pendingSummary('orders'))?.partitions).toBe(2);
    expect(await w.deps.arrivals.claimOwners('orders')).toEqual([]);
    expect(await w.deps.arrivals.returnClaim('orders', 'arn:a')).toEqual([]);
    expect(await w.deps.arrivals.claimPending('orders', 'arn:b', w.clock.now())).toEqual([day(1), day(3)]);
    expect(await w.deps.arrivals.claimOwners('orders')).toEqual(['arn:b']);
    await w.deps.arrivals.forgetClaim('orders', 'arn:b');
    expect(await w.deps.arrivals.claimOwners('orders')).toEqual([]);
    expect(await w.deps.arrivals.pendingSummary('orders')).toBeNull();
  });

  test('a partition that keeps changing under the claim stays pending, and out of the claim', async () => {
    const w = holdFirst(await dynamoWorld(dynamo));
    for (const d of [1, 2]) await w.deps.arrivals.recordArrival(arrival(d));
    const original = dynamo.doc.send.bind(dynamo.doc) as (command: unknown) => Promise<unknown>;
    const bump = new UpdateCommand({
      TableName: w.table,
      Key: { pk: 'DS#orders', sk: `PENDING#${day(1)}` },
      UpdateExpression: 'SET lastAt = :at ADD version :one',
      ExpressionAttributeValues: { ':at': w.clock.now().getTime(), ':one': 1 },
    });
    let bumps = 0;
    // An arrival lands on day 1 right before each of the claim's transactions that delete it on its version.
    jest.spyOn(dynamo.doc, 'send').mockImplementation((async (command: { input: object }) => {
      if (
        command.constructor.name === 'TransactWriteCommand' &&
        JSON.stringify(command.input).includes(`"PENDING#${day(1)}"`)
      ) {
        bumps++;
        await original(bump);
      }
      return original(command);
    }) as never);
    expect(await w.deps.arrivals.claimPending('orders', 'arn:a', w.clock.now())).toEqual([day(2)]);
    jest.restoreAllMocks();
    expect(bumps).toBe(5);
    expect(await w.deps.arrivals.pendingSummary('orders')).toMatchObject({ partitions: 1 });
    expect(await w.deps.arrivals.returnClaim('orders', 'arn:a')).toEqual([day(2)]);
  });

  test('the lease: its owner’s release says so; a throttled write is an error, not a "no"', async () => {
    const w = await dynamoWorld(dynamo);
    expect(await w.deps.leases.acquire('orders', 'A', w.clock.now(), 60)).toBe(true);
    expect(await w.deps.leases.release('orders', 'A')).toBe(true);
    expect(await w.deps.leases.current('orders')).toBeNull();
    const faults = injectFaults(dynamo, () => 'throttle');
    await expect(w.deps.leases.acquire('orders', 'A', w.clock.now(), 60)).rejects.toMatchObject({
      name: 'AwsThrottledError',
    });
    await expect(w.deps.leases.release('orders', 'A')).rejects.toMatchObject({ name: 'AwsThrottledError' });
    faults.restore();
  });

  test('a duplicate of an object already claimed writes nothing (no lease taken and given back)', async () => {
    const w = await dynamoWorld(dynamo);
    const event = objectEvent(`orders/${day(1)}/a.csv`, '1A');
    await acceptObjectCreated(event, w.deps, log);
    const run = w.executions.executionArnFor(w.executions.started[0]!.name);
    await w.deps.arrivals.claimPending('orders', run, w.clock.now());
    await w.deps.leases.release('orders', run); // even with the lease free
    const calls = injectFaults(dynamo, () => undefined);
    expect(await acceptObjectCreated(event, w.deps, log)).toMatchObject({
      status: 'duplicate',
      startedExecution: null,
    });
    expect(calls.calls.filter((c) => WRITES.has(c.kind))).toEqual([]);
  });
});

describe('the status-change handler', () => {
  const input = '{"dataset":"orders","trigger":"arrival"}';
  async function deadRunWithPending() {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    const dead = w.executions.executionArnFor(w.executions.started[0]!.name);
    w.clock.advance(5);
    return { w, dead, startDate: w.clock.now().getTime() }; // started after the arrival
  }

  test('FAILED, ABORTED or TIMED_OUT: what is pending was neither processed nor notified, so it restarts', async () => {
    for (const status of ['FAILED', 'ABORTED', 'TIMED_OUT']) {
      const { w, dead, startDate } = await deadRunWithPending();
      const again = await releaseLeaseOfDeadExecution(
        { detail: { executionArn: dead, status, input, startDate } },
        w.deps,
        log,
      );
      expect(again).toEqual({ released: true, followUp: expect.any(String) });
    }
  });

  test('FAILED without a start date restarts, and an arrival after the start restarts', async () => {
    const a = await deadRunWithPending();
    expect(
      (await releaseLeaseOfDeadExecution({ detail: { executionArn: a.dead, status: 'FAILED', input } }, a.w.deps, log))
        .followUp,
    ).toEqual(expect.any(String));
    const b = await deadRunWithPending();
    await land(b.w, 2);
    const out = await releaseLeaseOfDeadExecution(
      { detail: { executionArn: b.dead, status: 'FAILED', input, startDate: b.startDate } },
      b.w.deps,
      log,
    );
    expect(out.followUp).toEqual(expect.any(String));
  });

  test('ignores events that are not a death, or say not whose, and changes nothing', async () => {
    const { w, dead } = await deadRunWithPending();
    const nothing = { released: false, followUp: null };
    for (const detail of [
      { executionArn: dead, status: 'SUCCEEDED', input },
      { executionArn: dead, status: 'RUNNING', input },
      { status: 'ABORTED', input },
      { executionArn: dead, input },
      { executionArn: dead, status: 'ABORTED', input: '{"trigger":"arrival"}' },
      { executionArn: dead, status: 'ABORTED', input: '{not json' },
    ])
      expect(await releaseLeaseOfDeadExecution({ detail }, w.deps, log)).toEqual(nothing);
    expect(await releaseLeaseOfDeadExecution({}, w.deps, log)).toEqual(nothing);
    expect((await w.deps.leases.current('orders'))?.owner).toBe(dead);
    expect(w.executions.started).toHaveLength(1);
  });
});

describe('the status-change handler with the lease free', () => {
  // With the lease still held, an event that should be ignored and one that is acted on can end alike (the
  // acquire fails either way): here the lease is free and an arrival pending, so acting on it would start a run.
  test('ignores events that are not a death, or say not whose, or carry no dataset: no lease taken, no run', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    const dead = w.executions.executionArnFor(w.executions.started[0]!.name);
    expect(await w.deps.leases.release('orders', dead)).toBe(true);
    const input = '{"dataset":"orders","trigger":"arrival"}';
    for (const detail of [
      { executionArn: dead, status: 'SUCCEEDED', input },
      { status: 'ABORTED', input },
      { executionArn: '', status: 'FAILED', input },
      { executionArn: dead, input },
      { executionArn: dead, status: 'TIMED_OUT' },
      { executionArn: dead, status: 'TIMED_OUT', input: null },
      { executionArn: dead, status: 'FAILED', input: '{"dataset":7}' },
    ])
      expect(await releaseLeaseOfDeadExecution({ detail }, w.deps, log)).toEqual({ released: false, followUp: null });
    expect(await w.deps.leases.current('orders')).toBeNull();
    expect(w.executions.started).toHaveLength(1);
    // The same arrival and free lease with a real death: a run starts (so the events above were refused, not idle).
    const out = await releaseLeaseOfDeadExecution(
      { detail: { executionArn: dead, status: 'FAILED', input } },
      w.deps,
      log,
    );
    expect(out).toEqual({ released: true, followUp: expect.any(String) });
  });
});

describe('the first step of a run started by hand', () => {
  const prepare = (w: World, arn: string) =>
    prepareRun({ request: { dataset: 'orders', trigger: 'arrival' }, executionArn: arn }, w.deps, log);

  test('a takeover whose claim return fails keeps the lease, so its retry (same owner) takes it again and ends the return', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    const dead = w.executions.executionArnFor(w.executions.started[0]!.name);
    await prepare(w, dead);
    await w.deps.arrivals.claimPending('orders', dead, w.clock.now());
    w.clock.advance(RUN_LEASE_SECONDS + 1);
    const faults = injectFaults(dynamo, (c) =>
      c.kind === 'TransactWriteCommand' && JSON.stringify(c.input).includes('PENDING#') ? 'throttle' : undefined,
    );
    await expect(prepare(w, 'arn:by-hand')).rejects.toMatchObject({ name: 'AwsThrottledError' });
    faults.restore();
    expect((await w.deps.leases.current('orders'))?.owner).toBe('arn:by-hand');
    await prepare(w, 'arn:by-hand');
    expect(await w.deps.arrivals.claimOwners('orders')).toEqual([]);
    expect((await w.deps.arrivals.pendingSummary('orders'))?.partitions).toBe(1);
  });

  test('refused while another run holds the lease, naming it; "unknown" if that lease ended in between', async () => {
    const w = await dynamoWorld(dynamo);
    await w.deps.leases.acquire('orders', 'arn:active', w.clock.now(), RUN_LEASE_SECONDS);
    await expect(prepare(w, 'arn:second')).rejects.toMatchObject({
      name: 'LeaseHeldError',
      message: expect.stringContaining('arn:active'),
    });
    const original = dynamo.doc.send.bind(dynamo.doc) as (command: unknown) => Promise<unknown>;
    jest.spyOn(dynamo.doc, 'send').mockImplementation((async (command: unknown) => {
      // The active run ends between our refused acquire and our read of who holds the lease.
      if (command instanceof GetCommand) await w.deps.leases.release('orders', 'arn:active');
      return original(command);
    }) as never);
    await expect(prepare(w, 'arn:second')).rejects.toMatchObject({
      name: 'LeaseHeldError',
      message: expect.stringContaining('unknown'),
    });
  });
});

describe('the claim step', () => {
  test('a claim that came back empty though arrivals were pending reports no arrival times (no DebounceWait point)', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    w.clock.advance(61);
    // Every pending partition kept changing under the claim (see the ledger test above): nothing claimed.
    jest.spyOn(w.deps.arrivals, 'claimPending').mockResolvedValue([]);
    const out = await claimArrivals({ dataset: 'orders', executionArn: 'arn:run' }, w.deps, log);
    expect(out).toMatchObject({ settled: true, partitionCount: 0 });
    expect(out).not.toHaveProperty('firstArrivalAt');
    expect(out).not.toHaveProperty('lastArrivalAt');
    // Nothing claimed, nothing for the Map to read: no item list is written or referenced.
    expect(out).not.toHaveProperty('items');
  });
});

describe('the run context of the first step', () => {
  test('runs at most as many partitions at once as the job allows concurrent runs, and at most the fan-out', async () => {
    const concurrencyFor = async (fanOut: number, jobRuns: number) => {
      const w = await dynamoWorld(dynamo);
      const orders = w.deps.config.datasets.find((d) => d.name === 'orders')!;
      orders.fanOut = { ...orders.fanOut, maxConcurrency: fanOut };
      orders.job = { ...orders.job, maxConcurrentRuns: jobRuns };
      const out = await prepareRun(
        { request: { dataset: 'orders', trigger: 'arrival' }, executionArn: `arn:run-${fanOut}-${jobRuns}` },
        w.deps,
        log,
      );
      return out.run.maxConcurrency;
    };
    // More Map children than the job's concurrent runs would fail each extra start with ConcurrentRunsExceeded.
    expect(await concurrencyFor(8, 3)).toBe(3);
    expect(await concurrencyFor(2, 3)).toBe(2);
  });

  test("a run's lease outlives the state machine's own timeout, so a live run never loses it to the clock", () => {
    const asl = JSON.parse(readFileSync(join(__dirname, '..', '..', 'state-machines', 'sluice.asl.json'), 'utf8')) as {
      TimeoutSeconds: number;
    };
    expect(RUN_TIMEOUT_SECONDS).toBe(asl.TimeoutSeconds);
    expect(RUN_LEASE_SECONDS).toBeGreaterThan(asl.TimeoutSeconds);
  });
});

describe('the intake starts the run that pending arrivals need', () => {
  test('a new arrival starts one; a duplicate finds its partition still pending under no lease and starts one too', async () => {
    const w = await dynamoWorld(dynamo);
    const event = objectEvent(`orders/${day(1)}/a.csv`, '1A');
    expect(await acceptObjectCreated(event, w.deps, log)).toMatchObject({ status: 'accepted' });
    expect(w.executions.started).toHaveLength(1);
    // That run died before its claim, and its lease is gone: the redelivered event is the only thing left to act.
    await w.deps.leases.release('orders', w.executions.executionArnFor(w.executions.started[0]!.name));
    expect(await acceptObjectCreated(event, w.deps, log)).toMatchObject({ status: 'duplicate' });
    expect(w.executions.started).toHaveLength(2);
  });
});

describe('the last step of a run', () => {
  test('without a run state to say otherwise, forgets the whole claim: nothing it claimed is pending again', async () => {
    const w = holdFirst(await dynamoWorld(dynamo));
    await land(w, 1);
    await land(w, 2);
    const arn = w.executions.executionArnFor(w.executions.started[0]!.name);
    await w.deps.arrivals.claimPending('orders', arn, w.clock.now());
    await releaseLease(
      { dataset: 'orders', executionArn: arn, outcome: 'succeeded', runStartedAt: w.clock.now().toISOString() },
      w.deps,
      log,
    );
    expect(await w.deps.arrivals.pendingSummary('orders')).toBeNull();
    expect(await w.deps.arrivals.claimOwners('orders')).toEqual([]);
    expect(new Set(w.executions.started.map((s) => s.name)).size).toBe(1); // one execution (its start may be re-issued)
  });
});

describe('returning the claims of runs that no longer work', () => {
  test("returns every other owner's claim and never the lease holder's own", async () => {
    const w = holdFirst(await dynamoWorld(dynamo));
    await land(w, 1);
    await land(w, 2);
    await w.deps.arrivals.claimPending('orders', 'arn:holder', w.clock.now(), defaultClaimLimits(1));
    await w.deps.arrivals.claimPending('orders', 'arn:dead', w.clock.now());
    const returned = await returnClaimsOfOthers('orders', 'arn:holder', w.deps, log);
    expect(returned).toEqual([day(2)]);
    expect(await w.deps.arrivals.claimOwners('orders')).toEqual(['arn:holder']);
    expect((await w.deps.arrivals.pendingSummary('orders'))?.partitions).toBe(1);
  });
});

describe('a claim under the claim limits (issue 12)', () => {
  const limits = defaultClaimLimits(2);
  const arrival = (d: number) => ({
    dataset: 'orders',
    partitionKey: day(d),
    objectKey: `orders/${day(d)}/a.csv`,
    sequencer: `0${d}`,
    size: 1,
    arrivedAt: '2024-03-01T10:00:00Z',
  });
  const ledgers = {
    dynamodb: async () => {
      const w = holdFirst(await dynamoWorld(dynamo));
      return { ledger: w.deps.arrivals, clock: w.clock };
    },
    memory: async () => {
      const clock = new TickingClock(Date.parse('2024-03-01T10:00:00Z'), 0);
      const ledger = new MemoryArrivalLedger(clock);
      const w = holdFirst({ deps: { arrivals: ledger, leases: new MemoryRunLeases(ledger.store) } });
      return { ledger: w.deps.arrivals, clock };
    },
  };

  test.each(Object.keys(ledgers) as Array<keyof typeof ledgers>)(
    '%s: takes the oldest partitions within the limits, leaves the rest pending; a retry takes nothing new',
    async (kind) => {
      const { ledger, clock } = await ledgers[kind]();
      for (const d of [3, 1, 2]) {
        await ledger.recordArrival(arrival(d));
        clock.advance(10);
      }
      expect(await ledger.claimPending('orders', 'arn:run', clock.now(), limits)).toEqual([day(1), day(3)]);
      expect((await ledger.pendingSummary('orders'))?.partitions).toBe(1);
      await ledger.recordArrival(arrival(4));
      expect(await ledger.claimPending('orders', 'arn:run', clock.now(), limits)).toEqual([day(1), day(3)]);
      expect((await ledger.pendingSummary('orders'))?.partitions).toBe(2);
      expect(await ledger.claimPending('orders', 'arn:next', clock.now(), limits)).toEqual([day(2), day(4)]);
      expect(await ledger.pendingSummary('orders')).toBeNull();
    },
  );

  // (A claim that failed part-way through its choice is gone: each chunk of a claim is one transaction.)
});

describe('what DynamoDB’s TTL may delete, and when', () => {
  const item = async (w: World, pk: string, sk: string) =>
    (await dynamo.doc.send(new GetCommand({ TableName: w.table, Key: { pk, sk } }))).Item!;

  test('an event marker expires 7 days after its arrival (to the second): duplicates are recognised that long', async () => {
    const w = await dynamoWorld(dynamo);
    w.clock.advance(0.7); // a fraction of a second, so rounding shows
    const at = w.clock.now().getTime();
    await land(w, 1);
    const marker = await item(w, `EV#orders/${day(1)}/a.csv`, '1A');
    const sevenDays = 7 * 86_400_000;
    expect(Number(marker.ttl) * 1000).toBeLessThanOrEqual(at + sevenDays);
    expect(Number(marker.ttl) * 1000).toBeGreaterThan(at + sevenDays - 1000);
  });

  test('a lease item has no TTL: it holds the arrival counter, and its expiry is checked in the condition', async () => {
    const w = await dynamoWorld(dynamo);
    const now = w.clock.now();
    for (const seconds of [STARTUP_LEASE_SECONDS, RUN_LEASE_SECONDS]) {
      expect(await w.deps.leases.acquire('orders', `arn:${seconds}`, now, seconds)).toBe(true);
      const lease = await item(w, 'DS#orders', 'LEASE');
      expect(Number(lease.expiresAt)).toBe(now.getTime() + seconds * 1000);
      expect(lease.ttl).toBeUndefined();
      await w.deps.leases.release('orders', `arn:${seconds}`);
    }
  });
});

describe('the catch-up schedule', () => {
  test('writes nothing for a dataset with nothing to do: quiet, or working with its claim under a live lease', async () => {
    const w = await dynamoWorld(dynamo);
    const quiet = injectFaults(dynamo, () => undefined);
    expect(await catchUpAll(w.deps, log)).toEqual({ orders: null, clicks: null });
    quiet.restore();

    await land(w, 1);
    const run = w.executions.executionArnFor(w.executions.started[0]!.name);
    expect(await w.deps.leases.acquire('orders', run, w.clock.now(), RUN_LEASE_SECONDS)).toBe(true);
    expect(await w.deps.arrivals.claimPending('orders', run, w.clock.now())).toEqual([day(1)]);
    w.clock.advance(RUN_LEASE_SECONDS); // the lease's last moment: still live
    const working = injectFaults(dynamo, () => undefined);
    expect(await catchUpAll(w.deps, log)).toEqual({ orders: null, clicks: null });
    expect(working.calls.filter((c) => WRITES.has(c.kind))).toEqual([]);
    expect(quiet.calls.filter((c) => WRITES.has(c.kind))).toEqual([]);
  });
});

describe('the catch-up schedule: which datasets it starts, and its failure', () => {
  // Found by `npx stryker run stryker.config.mjs --mutate domain/runs/protocol.ts` (the checker's catch-up scenarios reach
  // these paths but are not in the mutation run).
  test('a start-up lease with nothing pending and no claim: its StartExecution is made (it may never have been)', async () => {
    const w = await dynamoWorld(dynamo);
    const name = executionNameFor('orders', w.clock.now(), 'follow-up');
    const input = { dataset: 'orders', trigger: 'follow-up' as const };
    const arn = w.executions.executionArnFor(name);
    expect(
      await w.deps.leases.acquire('orders', arn, w.clock.now(), STARTUP_LEASE_SECONDS, undefined, { name, input }),
    ).toBe(true);
    expect(await catchUpAll(w.deps, log)).toEqual({ orders: null, clicks: null });
    expect(w.executions.started).toEqual([{ name, input }]);
  });

  test('a claim whose run lease expired (the item still there): a run starts and takes the claim back', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    const dead = w.executions.executionArnFor(w.executions.started[0]!.name);
    expect(await w.deps.leases.acquire('orders', dead, w.clock.now(), RUN_LEASE_SECONDS)).toBe(true);
    expect(await w.deps.arrivals.claimPending('orders', dead, w.clock.now())).toEqual([day(1)]);
    w.clock.advance(RUN_LEASE_SECONDS + 1);
    const started = await catchUpAll(w.deps, log);
    expect(started).toEqual({ orders: expect.any(String), clicks: null });
    expect(await w.deps.arrivals.claimOwners('orders')).toEqual([]);
    expect((await w.deps.arrivals.pendingSummary('orders'))?.partitions).toBe(1);
  });

  test('one dataset fails: the others are caught up, then the catch-up fails naming only that dataset', async () => {
    const w = await dynamoWorld(dynamo);
    await w.deps.arrivals.recordArrival({
      dataset: 'clicks',
      partitionKey: 'dt=2024-03-01/hour=10',
      objectKey: 'events/clicks/2024-03-01/10/a.json',
      sequencer: '09',
      size: 10,
      arrivedAt: '2024-03-01T10:00:00Z',
    });
    const stuck = injectFaults(dynamo, (c) => (JSON.stringify(c.input).includes('DS#orders') ? 'throttle' : undefined));
    let failure: unknown;
    try {
      await catchUpAll(w.deps, log).catch((error: unknown) => (failure = error));
    } finally {
      stuck.restore();
    }
    expect(failure).toMatchObject({ name: 'AwsThrottledError', message: expect.stringContaining('orders') });
    expect((failure as Error).message).not.toMatch(/clicks/);
    expect(w.executions.started.map((s) => s.input.dataset)).toEqual(['clicks']);
    // The next schedule, with orders well again, catches it up too (nothing pending there: nothing started).
    expect(await catchUpAll(w.deps, log)).toEqual({ orders: null, clicks: null });
  });
});

describe('starting a run when the lease changes under the starter', () => {
  test('its give-back applied and the SDK retried it (the retry’s condition fails): the lease is free, nothing started', async () => {
    const w = await dynamoWorld(dynamo);
    const dead = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:dead';
    expect(await w.deps.leases.acquire('orders', dead, w.clock.now(), RUN_LEASE_SECONDS)).toBe(true);
    const faults = injectFaults(dynamo, (c) =>
      c.kind === 'UpdateCommand' && c.sk === 'LEASE' && String(c.input.UpdateExpression).startsWith('REMOVE')
        ? 'applied-then-retried'
        : undefined,
    );
    const event = {
      detail: { executionArn: dead, status: 'FAILED', input: '{"dataset":"orders","trigger":"arrival"}' },
    };
    let out;
    try {
      out = await releaseLeaseOfDeadExecution(event, w.deps, log);
    } finally {
      faults.restore();
    }
    expect(out).toEqual({ released: true, followUp: null });
    expect(await w.deps.leases.current('orders')).toBeNull();
    expect(w.executions.started).toEqual([]);
  });

  test('its start re-issued by another and its first step already run: the lease is the run’s now, not started again', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    const first = w.executions.executionArnFor(w.executions.started[0]!.name);
    expect(await w.deps.leases.release('orders', first)).toBe(true); // pending, lease free
    const current = w.deps.leases.current.bind(w.deps.leases);
    let ranFirstStep = false;
    jest.spyOn(w.deps.leases, 'current').mockImplementation(async (dataset) => {
      const lease = await current(dataset);
      if (!ranFirstStep && lease?.starting) {
        ranFirstStep = true; // meanwhile: another caller re-issued this StartExecution and the run's first step ran
        await prepareRun(
          { request: { dataset: 'orders', trigger: 'schedule' }, executionArn: lease.owner },
          w.deps,
          log,
        );
        return current(dataset);
      }
      return lease;
    });
    const out = await startRunIfNeeded('orders', 'schedule', w.deps, log);
    expect(ranFirstStep).toBe(true);
    expect(out).toEqual({ acquired: true, startedExecution: null });
    expect(w.executions.started).toHaveLength(1); // the intake's only: this caller made no StartExecution
    expect((await current('orders'))?.starting).toBeUndefined();
  });
});

describe('execution names', () => {
  test('are valid Step Functions names (at most 80 of [A-Za-z0-9-_]), unique, and say dataset, trigger and time', () => {
    const at = new Date('2024-03-01T10:00:00.123Z');
    const long = 'a'.repeat(80);
    for (const trigger of ['arrival', 'follow-up', 'schedule']) {
      const names = new Set(Array.from({ length: 20 }, () => executionNameFor(long, at, trigger)));
      expect(names.size).toBe(20);
      for (const name of names) {
        expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
        expect(name.startsWith(`${'a'.repeat(40)}-${trigger}-20240301100000123-`)).toBe(true);
      }
    }
  });
});

test('execution names turn a dataset’s underscores into hyphens (the dataset part reads like the rest of the name)', () => {
  const at = new Date('2024-03-01T10:00:00.123Z');
  expect(executionNameFor('web_orders_eu', at, 'schedule')).toMatch(
    /^web-orders-eu-schedule-20240301100000123-[a-z0-9]{1,6}$/,
  );
});

describe('logs (structured: what an operator searches by)', () => {
  test('name the execution, the dataset, the trigger and how many partitions moved, and only when something moved', async () => {
    const lines: Array<{ level: string; message: string; extra?: Record<string, unknown> }> = [];
    const recording: Log = {
      debug: (message, extra) => lines.push({ level: 'debug', message, extra }),
      info: (message, extra) => lines.push({ level: 'info', message, extra }),
      warn: (message, extra) => lines.push({ level: 'warn', message, extra }),
      error: (message, extra) => lines.push({ level: 'error', message, extra }),
    };
    const said = (pattern: RegExp) =>
      lines.filter((l) => pattern.test(l.message)).map(({ level, extra }) => ({ level, extra }));
    const w = await dynamoWorld(dynamo);
    await acceptObjectCreated(objectEvent(`orders/${day(1)}/a.csv`, '1A'), w.deps, recording);
    const dead = w.executions.executionArnFor(w.executions.started[0]!.name);
    expect(said(/^started a run/)).toEqual([{ level: 'info', extra: { startedExecution: dead, trigger: 'arrival' } }]);
    await acceptObjectCreated(objectEvent(`orders/${day(2)}/a.csv`, '2A'), w.deps, recording);
    // The lease is still the start-up lease (the fake runs no execution): its StartExecution is made again.
    expect(said(/made sure the starting run was started/)).toEqual([
      { level: 'info', extra: { startedExecution: dead } },
    ]);

    await prepareRun({ request: { dataset: 'orders', trigger: 'arrival' }, executionArn: dead }, w.deps, log);
    w.clock.advance(61);
    await claimArrivals({ dataset: 'orders', executionArn: dead }, w.deps, log);
    lines.length = 0;
    const event = {
      detail: { executionArn: dead, status: 'ABORTED', input: '{"dataset":"orders","trigger":"arrival"}' },
    };
    const out = await releaseLeaseOfDeadExecution(event, w.deps, recording);
    expect(said(/returned the claim/)).toEqual([{ level: 'warn', extra: { previousOwner: dead, partitions: 2 } }]);
    expect(said(/freed the lease/)).toEqual([
      { level: 'warn', extra: { executionArn: dead, status: 'ABORTED', dataset: 'orders' } },
    ]);
    expect(said(/^started a run/)).toEqual([
      { level: 'info', extra: { startedExecution: out.followUp, trigger: 'follow-up' } },
    ]);

    lines.length = 0; // the event again: the lease is the follow-up's now, so nothing moved
    expect(await releaseLeaseOfDeadExecution(event, w.deps, recording)).toEqual({ released: false, followUp: null });
    expect(said(/returned the claim|freed the lease|started a run/)).toEqual([]);
    await releaseLeaseOfDeadExecution(
      { detail: { executionArn: dead, status: 'ABORTED', input: 'not json' } },
      w.deps,
      recording,
    );
    expect(said(/without a dataset/)).toEqual([{ level: 'warn', extra: { executionArn: dead, status: 'ABORTED' } }]);
  });
});
