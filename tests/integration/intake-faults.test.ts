/**
 * The run protocol under single-call faults, against a real DynamoDB API (dynalite): issue 10's demonstrated
 * bugs, one deterministic test each. Every test here failed before its fix (see /tmp/sluice-notes/10-note.md).
 */
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { acceptObjectCreated } from '../../domain/intake/arrival';
import type { Deps } from '../../domain/deps';
import type { Log } from '../../domain/common';
import { claimedList } from '../../domain/inputs/run-inputs';
import {
  catchUpAll,
  releaseLeaseOfDeadExecution,
  RUN_LEASE_SECONDS,
  STARTUP_LEASE_SECONDS,
} from '../../domain/runs/protocol';
import { claimArrivals, prepareRun, releaseLease } from '../../domain/steps';
import type { ClaimArrivalsOutput } from '../../schemas/types.generated';
import { dynamoWorld, injectFaults, startDynamo, type LocalDynamo } from '../support/dynamo';
import { objectEvent } from '../support/events';

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
const QUIET = 61;
const day = (d: number) => `year=2024/month=03/day=${String(d).padStart(2, '0')}`;
const keyOf = (p: { year?: string; month?: string; day?: string }) => `year=${p.year}/month=${p.month}/day=${p.day}`;

async function land(w: World, d: number, file = 'a', sequencer = `${d}${file}`.toUpperCase()) {
  return acceptObjectCreated(objectEvent(`orders/${day(d)}/${file}.csv`, sequencer), w.deps, log);
}
const arnOf = (w: World, i: number) => w.executions.executionArnFor(w.executions.started[i]!.name);
const lastStarted = (w: World) => arnOf(w, w.executions.started.length - 1);

async function prepare(w: World, arn: string, deps: Deps = w.deps) {
  return prepareRun({ request: { dataset: 'orders', trigger: 'arrival' }, executionArn: arn }, deps, log);
}
async function claim(w: World, arn: string): Promise<string[]> {
  const out: ClaimArrivalsOutput = await claimArrivals({ dataset: 'orders', executionArn: arn }, w.deps, log);
  return (await claimedList(w.deps, out)).map(keyOf).sort();
}
async function pendingCount(w: World): Promise<number> {
  return (await w.deps.arrivals.pendingSummary('orders'))?.partitions ?? 0;
}
/** The run the intake started: prepared, waited out, claimed. */
async function runUpToClaim(w: World): Promise<{ arn: string; claimed: string[] }> {
  const arn = lastStarted(w);
  await prepare(w, arn);
  w.clock.advance(QUIET);
  return { arn, claimed: await claim(w, arn) };
}
/** The claim's transaction: it deletes the pending items it claims, on their versions (adapters/aws/dynamo-state.ts). */
const deleteOfPending = (c: { kind: string; input: object }) =>
  c.kind === 'TransactWriteCommand' && /"Delete":\{[^}]*"PENDING#/.test(JSON.stringify(c.input));

describe('1. the claim step is idempotent', () => {
  test('a claim transaction throttled: the retried claim returns every partition', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    await land(w, 2);
    const arn = lastStarted(w);
    await prepare(w, arn);
    w.clock.advance(QUIET);
    let deletes = 0;
    const faults = injectFaults(dynamo, (c) => (deleteOfPending(c) && ++deletes === 1 ? 'throttle' : undefined));
    await expect(claimArrivals({ dataset: 'orders', executionArn: arn }, w.deps, log)).rejects.toMatchObject({
      name: 'AwsThrottledError',
    });
    faults.restore();
    expect(await claim(w, arn)).toEqual([day(1), day(2)]);
    expect(await pendingCount(w)).toBe(0);
  });

  test('an SDK retry of its own applied claim transaction is still its own claim', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    await land(w, 2);
    const arn = lastStarted(w);
    await prepare(w, arn);
    w.clock.advance(QUIET);
    let deletes = 0;
    const faults = injectFaults(dynamo, (c) =>
      deleteOfPending(c) && ++deletes === 1 ? 'applied-then-retried' : undefined,
    );
    const claimed = await claim(w, arn);
    faults.restore();
    expect(claimed).toEqual([day(1), day(2)]);
  });

  test('a claim that fails for good: nothing was taken (one transaction), so everything is still pending', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    await land(w, 2);
    const arn = lastStarted(w);
    const runStartedAt = w.clock.now().toISOString();
    await prepare(w, arn);
    w.clock.advance(QUIET);
    // The claim's transaction fails with a fatal error (not retried by the ASL).
    const faults = injectFaults(dynamo, (c) => {
      if (deleteOfPending(c))
        throw Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
          name: 'ValidationException',
        });
      return undefined;
    });
    // The step then fails for good: a fatal error from a write after its deletes, or the Lambda dies after
    // them; either way its output is lost and the state machine takes the failure path.
    await claimArrivals({ dataset: 'orders', executionArn: arn }, w.deps, log).catch(() => undefined);
    faults.restore();
    // The notification says "still pending" (rerunInput is an automatic input), so nothing may be forgotten.
    const state = {
      run: { dataset: 'orders', mode: 'automatic' },
      failure: { claimArrivals: { Error: 'ValidationException', Cause: 'size' } },
      notification: { report: { rerunInput: { dataset: 'orders', trigger: 'arrival' } } },
    };
    await releaseLease(
      { dataset: 'orders', executionArn: arn, outcome: 'failed', runStartedAt, state } as never,
      w.deps,
      log,
    );
    expect(await pendingCount(w)).toBe(2);
  });
});

describe('2. claims are never orphaned', () => {
  test('a run dies without its status-change event and its lease item is gone: the catch-up returns its claim', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    const dead = await runUpToClaim(w);
    expect(dead.claimed).toEqual([day(1)]);
    w.clock.advance(RUN_LEASE_SECONDS + 1);
    // DynamoDB's TTL removed the expired lease item.
    await dynamo.doc.send(new DeleteCommand({ TableName: w.table, Key: { pk: 'DS#orders', sk: 'LEASE' } }));
    const started = await catchUpAll(w.deps, log);
    expect(started.orders).not.toBeNull();
    expect(await claim(w, started.orders!)).toEqual([day(1)]);
  });

  test('an automatic input started by hand takes over the expired lease and the dead run’s claim', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    await runUpToClaim(w);
    w.clock.advance(RUN_LEASE_SECONDS + 1);
    const byHand = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:by-hand';
    await prepare(w, byHand);
    w.clock.advance(QUIET);
    expect(await claim(w, byHand)).toEqual([day(1)]);
  });

  test('a takeover that fails between taking the lease and returning the claim: nothing is orphaned', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    await runUpToClaim(w);
    w.clock.advance(RUN_LEASE_SECONDS + 1);
    let leaseTaken = false;
    const faults = injectFaults(dynamo, (c) => {
      if (leaseTaken) {
        leaseTaken = false;
        return 'throttle';
      }
      if (c.kind === 'UpdateCommand' && c.sk === 'LEASE') leaseTaken = true;
      return undefined;
    });
    await expect(land(w, 2)).rejects.toMatchObject({ name: 'AwsThrottledError' });
    faults.restore();
    await land(w, 2); // EventBridge redelivers: the half-taken start-up lease is still live
    w.clock.advance(STARTUP_LEASE_SECONDS + 1);
    const started = await catchUpAll(w.deps, log);
    expect(started.orders).not.toBeNull();
    await prepare(w, started.orders!);
    w.clock.advance(QUIET);
    expect(await claim(w, started.orders!)).toEqual([day(1), day(2)]);
  });
});

describe('3. pending work is never stranded', () => {
  test('the follow-up StartExecution is throttled once: the retried release step still starts it', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    const run = await runUpToClaim(w);
    await land(w, 2); // arrives while the run works: left to the run's release step
    jest
      .spyOn(w.executions, 'startExecution')
      .mockRejectedValueOnce(Object.assign(new Error('Rate exceeded'), { name: 'AwsThrottledError' }));
    const input = {
      dataset: 'orders',
      executionArn: run.arn,
      outcome: 'succeeded' as const,
      runStartedAt: '2024-03-01T09:00:00Z',
    };
    await expect(releaseLease(input, w.deps, log)).rejects.toMatchObject({ name: 'AwsThrottledError' });
    // The lease went to the follow-up's start-up lease; the retried step re-issues its StartExecution.
    await releaseLease(input, w.deps, log);
    const lease = await w.deps.leases.current('orders');
    expect(w.executions.started.map((s) => w.executions.executionArnFor(s.name))).toContain(lease!.owner);
    expect(lease!.owner).not.toBe(run.arn);
  });

  test('the SDK retries the applied hand-over of the lease: the release step still starts the follow-up', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    const run = await runUpToClaim(w);
    await land(w, 2);
    const faults = injectFaults(dynamo, (c) =>
      c.kind === 'UpdateCommand' && c.sk === 'LEASE' ? 'applied-then-retried' : undefined,
    );
    const out = await releaseLease(
      { dataset: 'orders', executionArn: run.arn, outcome: 'succeeded', runStartedAt: '2024-03-01T09:00:00Z' },
      w.deps,
      log,
    );
    faults.restore();
    expect(out.followUpExecutionArn).toBeDefined();
    expect(w.executions.started).toHaveLength(2);
  });

  test('the status-change handler whose lease hand-over was applied but timed out: its retry still starts a run', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    const dead = await runUpToClaim(w);
    const event = {
      detail: { executionArn: dead.arn, status: 'ABORTED', input: '{"dataset":"orders","trigger":"arrival"}' },
    };
    const faults = injectFaults(dynamo, (c) =>
      c.kind === 'UpdateCommand' && c.sk === 'LEASE' ? 'applied-then-timeout' : undefined,
    );
    await releaseLeaseOfDeadExecution(event, w.deps, log).catch(() => undefined);
    faults.restore();
    await releaseLeaseOfDeadExecution(event, w.deps, log);
    expect(new Set(w.executions.started.map((s) => s.name)).size).toBe(2); // its start re-issued, one execution
    // The follow-up's first step returns the dead run's claim (the handler's first attempt died before it could).
    await prepare(w, (await w.deps.leases.current('orders'))!.owner);
    expect(await pendingCount(w)).toBe(1);
  });
});

describe('4. a claim is returned once', () => {
  test('two deliveries of one status-change event, interleaved with the follow-up’s claim: no partition twice', async () => {
    const w = await dynamoWorld(dynamo);
    await land(w, 1);
    const dead = await runUpToClaim(w);
    const event = {
      detail: { executionArn: dead.arn, status: 'ABORTED', input: '{"dataset":"orders","trigger":"arrival"}' },
    };
    // The second delivery makes one DynamoDB call, then stalls until the first delivery and its follow-up's
    // claim are done (two Lambda invocations running side by side).
    let release!: () => void;
    const stall = new Promise<void>((resolve) => (release = resolve));
    let secondCalls = 0;
    const original = dynamo.doc.send.bind(dynamo.doc);
    const secondDoc = {
      send: async (command: never) => {
        if (++secondCalls === 2) await stall;
        return original(command);
      },
    };
    const { DynamoArrivalLedger, DynamoRunLeases } = await import('../../adapters/aws/dynamo-state');
    const secondDeps: Deps = {
      ...w.deps,
      arrivals: new DynamoArrivalLedger(secondDoc as never, w.table, () => w.clock.now()),
      leases: new DynamoRunLeases(secondDoc as never, w.table),
    };
    const second = releaseLeaseOfDeadExecution(event, secondDeps, log);
    while (secondCalls < 2) await new Promise((resolve) => setImmediate(resolve));
    await releaseLeaseOfDeadExecution(event, w.deps, log);
    const claims: string[] = [];
    const claimByNewRuns = async (from: number) => {
      for (let i = from; i < w.executions.started.length; i++) {
        const arn = arnOf(w, i);
        try {
          await prepare(w, arn);
        } catch {
          continue; // LeaseHeldError: that run ends without touching data
        }
        w.clock.advance(QUIET);
        claims.push(...(await claim(w, arn)));
      }
    };
    await claimByNewRuns(1);
    const startedBefore = w.executions.started.length;
    release();
    await second;
    await claimByNewRuns(startedBefore);
    expect(claims).toEqual([day(1)]);
    expect(await pendingCount(w)).toBe(0);
  });
});

describe('found by the interleaving model (tests/protocol)', () => {
  test('a StartExecution that times out after starting: the intake’s clean-up never frees the started run’s lease', async () => {
    const w = await dynamoWorld(dynamo);
    const started = w.executions.startExecution.bind(w.executions);
    jest.spyOn(w.executions, 'startExecution').mockImplementationOnce(async (name, input) => {
      const arn = await started(name, input);
      await prepare(w, arn); // the execution's first step runs before the intake sees its answer
      throw Object.assign(new Error('socket timeout after StartExecution'), { name: 'AwsThrottledError' });
    });
    await expect(land(w, 1)).rejects.toMatchObject({ name: 'AwsThrottledError' });
    const run = arnOf(w, 0);
    expect((await w.deps.leases.current('orders'))?.owner).toBe(run);
    // So a run started by hand is refused, and cannot return the working run's claim.
    w.clock.advance(QUIET);
    expect(await claim(w, run)).toEqual([day(1)]);
    await expect(
      prepareRun(
        {
          request: { dataset: 'orders', partitions: [{ year: '2024', month: '03', day: '01' }] },
          executionArn: 'arn:m',
        },
        w.deps,
        log,
      ),
    ).rejects.toMatchObject({ name: 'LeaseHeldError' });
    expect(await pendingCount(w)).toBe(0);
  });
});
