/**
 * Model-based property test against dynalite: random interleavings of arrivals, duplicates, clock jumps,
 * run steps (claim, success, failure), executions dying with or without their status-change event.
 */
import fc from 'fast-check';
import { encodeS3Key } from '../../adapters/local/lake';
import { acceptObjectCreated } from '../../domain/intake/arrival';
import type { Log } from '../../domain/common';
import { claimedList } from '../../domain/inputs/run-inputs';
import {
  catchUpAll,
  releaseLeaseOfDeadExecution,
  RUN_LEASE_SECONDS,
  STARTUP_LEASE_SECONDS,
} from '../../domain/runs/protocol';

/** The test config's orders.debounce.quietSeconds. */
const DEBOUNCE_QUIET_SECONDS = 60;
import { claimArrivals, prepareRun, releaseLease } from '../../domain/steps';
import { dynamoWorld, startDynamo, type LocalDynamo } from '../support/dynamo';

const log: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});

type Action =
  | { t: 'arrive'; day: number; file: number }
  | { t: 'tick'; seconds: number }
  | { t: 'step'; ok: boolean }
  | { t: 'die'; withEvent: boolean };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    t: fc.constant('arrive' as const),
    day: fc.integer({ min: 1, max: 4 }),
    file: fc.integer({ min: 0, max: 6 }),
  }),
  fc.record({ t: fc.constant('tick' as const), seconds: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ t: fc.constant('step' as const), ok: fc.boolean() }),
  fc.record({ t: fc.constant('die' as const), withEvent: fc.boolean() }),
);

interface SimRun {
  arn: string;
  phase: 'started' | 'prepared' | 'claimed' | 'done' | 'dead';
  startedAt: string;
  claimed: string[];
  claimedAt: number;
}

test('every object is processed or named in a failure; never two live runs; bursts and duplicates add no run', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 40 }), async (actions) => {
      const { deps, clock, ...world } = await dynamoWorld(dynamo, 'prop');
      const runs: SimRun[] = [];
      const arrivals = new Map<string, { partition: string; at: number }>();
      const covered = new Set<string>();

      const adoptNewExecutions = () => {
        for (const s of world.executions.started.slice(runs.length)) {
          // Never two live runs per dataset. A run still before its first step may have lost its short start-up
          // lease; it then fails in that first step (LeaseHeldError) without touching any data.
          const working = runs.filter((r) => r.phase === 'prepared' || r.phase === 'claimed');
          expect(working).toHaveLength(0);
          runs.push({
            arn: world.executions.executionArnFor(s.name),
            phase: 'started',
            startedAt: clock.now().toISOString(),
            claimed: [],
            claimedAt: 0,
          });
        }
      };
      const finish = async (run: SimRun, ok: boolean) => {
        for (const [id, a] of arrivals) if (run.claimed.includes(a.partition) && a.at <= run.claimedAt) covered.add(id);
        run.phase = 'done';
        await releaseLease(
          {
            dataset: 'orders',
            executionArn: run.arn,
            outcome: ok ? 'succeeded' : 'failed',
            runStartedAt: run.startedAt,
          },
          deps,
          log,
        );
      };
      const step = async (run: SimRun, ok: boolean) => {
        if (run.phase === 'started') {
          try {
            await prepareRun({ request: { dataset: 'orders', trigger: 'arrival' }, executionArn: run.arn }, deps, log);
            run.phase = 'prepared';
          } catch {
            run.phase = 'done'; // LeaseHeldError: ends failed, claimed nothing
          }
        } else if (run.phase === 'prepared') {
          const claim = await claimArrivals({ dataset: 'orders', executionArn: run.arn }, deps, log);
          if (!claim.settled) return;
          run.claimed = (await claimedList(deps, claim)).map((p) => `year=${p.year}/month=${p.month}/day=${p.day}`);
          run.claimedAt = clock.current;
          if (run.claimed.length === 0) return finish(run, true);
          run.phase = 'claimed';
        } else if (run.phase === 'claimed') await finish(run, ok);
      };

      for (const a of actions) {
        const live =
          runs.find((r) => r.phase === 'prepared' || r.phase === 'claimed') ?? runs.find((r) => r.phase === 'started');
        if (a.t === 'arrive') {
          const key = `orders/year=2024/month=03/day=0${a.day}/f${a.file}.csv`;
          const sequencer = (a.day * 10 + a.file + 1).toString(16).toUpperCase();
          const event = {
            id: 'e',
            source: 'aws.s3',
            'detail-type': 'Object Created',
            time: '2024-03-01T10:00:00Z',
            detail: { bucket: { name: 'raw-bucket' }, object: { key: encodeS3Key(key), size: 1, sequencer } },
          };
          const before = world.executions.started.length;
          const outcome = await acceptObjectCreated(event, deps, log);
          if (outcome.status === 'duplicate' && arrivals.has(key) && covered.has(key))
            expect(world.executions.started.length).toBe(before);
          if (!arrivals.has(key))
            arrivals.set(key, { partition: `year=2024/month=03/day=0${a.day}`, at: clock.current });
        } else if (a.t === 'tick') clock.advance(a.seconds);
        else if (a.t === 'step' && live) await step(live, a.ok);
        else if (a.t === 'die' && live) {
          live.phase = 'dead';
          if (a.withEvent)
            await releaseLeaseOfDeadExecution(
              { detail: { executionArn: live.arn, status: 'ABORTED', input: '{"dataset":"orders"}' } },
              deps,
              log,
            );
        }
        adoptNewExecutions();
      }

      // Drain: leases of dead runs expire within their bound; the catch-up schedule (as production calls it)
      // restarts pending work and returns the claims of runs that died unseen.
      for (const r of runs) if (r.phase !== 'done') r.phase = 'dead'; // past the machine timeout, all have ended
      clock.advance(RUN_LEASE_SECONDS + 1);
      await catchUpAll(deps, log);
      adoptNewExecutions();
      for (let i = 0; i < 50; i++) {
        const live = runs.find((r) => r.phase !== 'done' && r.phase !== 'dead');
        if (!live) break;
        // Steps of the quiet period: short enough that a started run's start-up lease is still live at its
        // first step (1,000 s steps let every start-up lease expire, which hid lease bugs).
        clock.advance(DEBOUNCE_QUIET_SECONDS + 1);
        expect(DEBOUNCE_QUIET_SECONDS + 1).toBeLessThan(STARTUP_LEASE_SECONDS);
        await step(live, true);
        adoptNewExecutions();
        if (!runs.some((r) => r.phase !== 'done' && r.phase !== 'dead')) await catchUpAll(deps, log);
        adoptNewExecutions();
      }
      expect(await deps.arrivals.pendingSummary('orders')).toBeNull();
      expect(await deps.arrivals.claimOwners('orders')).toEqual([]);
      for (const id of arrivals.keys()) expect([id, covered.has(id)]).toEqual([id, true]);
    }),
    { numRuns: 40 },
  );
}, 120_000);

test('a burst inside the quiet period yields exactly one run', async () => {
  const { deps, clock, table, ...world } = await dynamoWorld(dynamo, 'burst');
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 30 }), async (files) => {
      for (const f of files) {
        clock.advance(1);
        const key = `orders/year=2024/month=03/day=01/b${table}-${f}.csv`;
        await acceptObjectCreated(
          {
            id: 'e',
            source: 'aws.s3',
            'detail-type': 'Object Created',
            time: '2024-03-01T10:00:00Z',
            detail: { bucket: { name: 'raw-bucket' }, object: { key, size: 1, sequencer: 'AA' } },
          },
          deps,
          log,
        );
      }
      expect(new Set(world.executions.started.map((s) => s.name)).size).toBe(1); // one execution (its start re-issued while starting)
    }),
    { numRuns: 5 },
  );
}, 60_000);
