/**
 * Interleaving model of the run protocol at the level of single DynamoDB calls (issue 10).
 *
 * Actors run concurrently under fast-check's scheduler: S3 events through the real intake, executions through
 * the real step cores (prepareRun, claimArrivals, notifyFailure, releaseLease) with the ASL's retry and failure
 * paths, status-change handlers, catch-up invocations, manual runs, and clock jumps that expire leases. Every
 * DynamoDB call of the real adapter (adapters/aws/dynamo-state.ts, over dynalite in-process) is a scheduling
 * point, and each may get a fault from the plan: a throttle before the call, a timeout after the write was
 * applied, an SDK retry of the applied write, or a Lambda crash right after it. Events may be lost or come twice.
 * A Lambda also dies when the model's clock passes its timeout, so no write happens after its lease could have
 * expired (as on AWS).
 *
 * Invariants, checked at every quiescent point (between two DynamoDB calls, when nothing is in flight):
 *   I1 every recorded object is pending, in a claim (a live run's, or a dead run's that the next lease holder
 *      returns), or processed / named in a notification by a job that started after it landed;
 *   I2 never two working runs of a dataset;
 *   I3 no partition is processed twice unless something arrived for it since (or the run that processed it
 *      died before its last step could forget its claim: at-least-once, never lost);
 * and after the drain (time passes, the catch-up schedule runs, no more faults):
 *   I4 every recorded object was processed or named; nothing is pending or claimed.
 *
 * Not modelled: an execution aborted while one of its Lambdas is still running (aborts take effect between
 * steps); see /tmp/sluice-notes/10-note.md.
 */
import fc from 'fast-check';
import { DynamoArrivalLedger, DynamoRunLeases } from '../../adapters/aws/dynamo-state';
import { encodeS3Key } from '../../adapters/local/lake';
import { SluiceError } from '../../domain/errors';
import { acceptObjectCreated } from '../../domain/intake';
import type { Deps, ExecutionStarter, Log } from '../../domain/ports';
import { claimedList } from '../../domain/run-inputs';
import { catchUpAll, releaseLeaseOfDeadExecution, RUN_LEASE_SECONDS, RUN_TIMEOUT_SECONDS } from '../../domain/runs';
import { notifyFailure } from '../../domain/steps/notify';
import { claimArrivals, prepareRun, releaseLease } from '../../domain/steps/run';
import type { ExecutionInput, PartitionValues } from '../../schemas/types.generated';
import { fakeWorld } from '../support/fakes';
import { InProcessDynamo } from './in-process-dynamo';

export type Fault = 'none' | 'throttle' | 'applied-then-timeout' | 'applied-then-retried' | 'crash-after';
export type StartFault = 'ok' | 'throttle' | 'started-then-timeout';

export interface Plan {
  /** S3 events, landing over time; deliveries 0 = lost, 2 = delivered twice. */
  events: Array<{ day: number; file: number; deliveries: number }>;
  /** Fault for the n-th DynamoDB call (calls past the end get none). */
  faults: Fault[];
  /** Fault for the n-th StartExecution. */
  startFaults: StartFault[];
  /** Fate of the n-th execution: aborted before its k-th step, job runs failing, status events delivered. */
  executions: Array<{ abortBeforeStep: number | null; jobsFail: boolean; statusDeliveries: number }>;
  catchUps: number;
  manualRuns: number[];
  /** Clock jumps in seconds (lease expiries and machine time-outs among them). */
  jumps: number[];
}

const DAYS = 3;
const FILES = 3;
/** The Lambda functions' timeout (serverless.yml provider.timeout). */
const LAMBDA_TIMEOUT_SECONDS = 30;
/** Attempts of a step under the ASL's Retry (kept small: the model's faults are dense). */
const STEP_ATTEMPTS = 3;
const DELIVERY_ATTEMPTS = 4;
/** Retries without faults (the drain) end well before this; more means a livelock. */
const MAX_ATTEMPTS = 50;
/** Errors the model injects (after the adapters' mapping), as opposed to bugs. */
const INJECTED = new Set(['AwsThrottledError', 'LambdaCrash', 'TimeoutError', 'ThrottlingException', 'ExecutionDead']);
const WRITES = new Set(['PutCommand', 'UpdateCommand', 'DeleteCommand']);
const isInjected = (error: unknown): boolean => INJECTED.has((error as Error | undefined)?.name ?? '');

export const planArbitrary: fc.Arbitrary<Plan> = fc.record({
  events: fc.array(
    fc.record({
      day: fc.integer({ min: 1, max: DAYS }),
      file: fc.integer({ min: 0, max: FILES - 1 }),
      deliveries: fc.constantFrom(1, 1, 1, 2, 0),
    }),
    { minLength: 1, maxLength: 6 },
  ),
  faults: fc.array(
    fc.constantFrom<Fault>(
      'none',
      'none',
      'none',
      'none',
      'throttle',
      'applied-then-timeout',
      'applied-then-retried',
      'crash-after',
    ),
    { maxLength: 120 },
  ),
  startFaults: fc.array(fc.constantFrom<StartFault>('ok', 'ok', 'throttle', 'started-then-timeout'), {
    maxLength: 6,
  }),
  executions: fc.array(
    fc.record({
      abortBeforeStep: fc.option(fc.integer({ min: 1, max: 6 }), { freq: 4 }),
      jobsFail: fc.boolean(),
      statusDeliveries: fc.constantFrom(1, 1, 2, 0),
    }),
    { maxLength: 8 },
  ),
  catchUps: fc.integer({ min: 0, max: 2 }),
  manualRuns: fc.array(fc.integer({ min: 1, max: DAYS }), { maxLength: 1 }),
  jumps: fc.array(fc.constantFrom(61, 301, 601, RUN_TIMEOUT_SECONDS + 1, RUN_LEASE_SECONDS + 1), { maxLength: 3 }),
});

const silent: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const partitionOfDay = (day: number) => `year=2024/month=03/day=0${day}`;
const valuesOfDay = (day: number): PartitionValues => ({ year: '2024', month: '03', day: `0${day}` });
const keyOfValues = (p: PartitionValues) => `year=${p.year}/month=${p.month}/day=${p.day}`;

class Crash extends Error {
  override readonly name = 'LambdaCrash';
}
class Dead extends Error {
  override readonly name = 'ExecutionDead';
}

export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
}

interface Landed {
  id: string;
  partition: string;
  landedAt: number;
  /** Last tick its intake wrote the partition's pending item (it re-opens the partition from then on). */
  pendingWrittenAt?: number;
  recorded: boolean;
}
interface Coverage {
  tick: number;
  by: string;
  kind: 'processed' | 'named' | 'manual';
  /** Its job failed and no notification named it: the partition must be retried, so a re-run is expected. */
  unfinished?: boolean;
  /** When the claim that led to it began: a pending write after this may have re-opened the partition. */
  since: number;
}
interface Execution {
  arn: string;
  name: string;
  input: ExecutionInput;
  startedAt: number;
  index: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  working: boolean;
  /** Its last step dealt with its claim (forgot it, or returned what it did not cover). */
  claimDealtWith: boolean;
  steps: number;
}

/** Where a Lambda invocation stands: its start on the model clock (it dies past its timeout). */
interface Invocation {
  startedAt: number;
  /** Told when this invocation's write of a pending item was applied (the intake's). */
  onPendingWrite?: () => void;
}

export interface ScenarioResult {
  dynamoCalls: number;
  executions: number;
  checks: number;
}

/** Runs one scenario under the scheduler; throws InvariantViolation (or an assertion) on a broken promise. */
export async function runScenario(s: fc.Scheduler, plan: Plan): Promise<ScenarioResult> {
  const dynamo = new InProcessDynamo();
  const table = 'protocol';
  await dynamo.createTable(table);
  const world = fakeWorld();
  let clock = Date.parse('2024-03-01T10:00:00Z');
  let tick = 0;
  let calls = 0;
  let faultsOn = true;
  let inFlight = 0;
  /** A write was applied, or the model's own record changed, since the last check (else it would see the same). */
  let dirty = true;

  const landed: Landed[] = [];
  const coverage = new Map<string, Coverage[]>();
  const executions: Execution[] = [];
  const actors: Array<Promise<unknown>> = [];
  let checks = 0;

  /** A client per Lambda invocation, so faults and time-outs hit the invocation that made the call. */
  const clientFor = (invocation: Invocation) => ({
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      await s.schedule(Promise.resolve(), `${command.constructor.name}`);
      if ((clock - invocation.startedAt) / 1000 > LAMBDA_TIMEOUT_SECONDS)
        throw new Crash('Task timed out (the model clock passed the Lambda timeout)');
      const fault = faultsOn ? (plan.faults[calls] ?? 'none') : 'none';
      calls++;
      if (fault === 'throttle')
        throw Object.assign(new Error('injected throttle'), { name: 'ThrottlingException', $metadata: {} });
      inFlight++;
      try {
        const answer = await dynamo.send(command);
        if (WRITES.has(command.constructor.name)) dirty = true;
        const key = command.input.Key as { sk?: string } | undefined;
        if (command.constructor.name === 'UpdateCommand' && key?.sk?.startsWith('PENDING#'))
          invocation.onPendingWrite?.();
        if (fault === 'applied-then-timeout')
          throw Object.assign(new Error('injected timeout after apply'), { name: 'TimeoutError', $metadata: {} });
        if (fault === 'crash-after') throw new Crash('injected Lambda crash after an applied call');
        if (fault === 'applied-then-retried') return await dynamo.send(command);
        return answer;
      } finally {
        inFlight--;
      }
    },
  });

  let startCalls = 0;
  const executionsPort: ExecutionStarter = {
    executionArnFor: (name) => world.executions.executionArnFor(name),
    startExecution: async (name, input) => {
      await s.schedule(Promise.resolve(), 'StartExecution');
      const fault = faultsOn ? (plan.startFaults[startCalls] ?? 'ok') : 'ok';
      startCalls++;
      if (fault === 'throttle')
        throw Object.assign(new Error('injected StartExecution throttle'), { name: 'AwsThrottledError' });
      const arn = world.executions.executionArnFor(name);
      // Step Functions: same name and input is the same execution (idempotent StartExecution).
      if (!executions.some((e) => e.arn === arn)) spawnExecution(name, arn, input);
      if (fault === 'started-then-timeout')
        throw Object.assign(new Error('injected timeout after StartExecution'), { name: 'AwsThrottledError' });
      return arn;
    },
  };

  /** Deps for one Lambda invocation. */
  const invocation = (onPendingWrite?: () => void): Deps => {
    const inv: Invocation = { startedAt: clock, onPendingWrite };
    const doc = clientFor(inv) as never;
    return {
      ...world.deps,
      clock: { now: () => new Date(clock) },
      arrivals: new DynamoArrivalLedger(doc, table, () => new Date(clock)),
      leases: new DynamoRunLeases(doc, table),
      executions: executionsPort,
    };
  };

  const advance = (seconds: number) => {
    clock += seconds * 1000;
    for (const e of executions)
      if (e.status === 'RUNNING' && clock - e.startedAt >= RUN_TIMEOUT_SECONDS * 1000) die(e, 'TIMED_OUT');
  };

  /** What happened, in order: printed with a violation so a counterexample can be read. */
  const journal: string[] = [];
  const note = (line: string) => journal.push(`t${tick} ${line}`);
  const logFor = (who: string): Log => ({
    ...silent,
    info: (message, extra) => note(`  ${who}: ${message} ${JSON.stringify(extra ?? {})}`),
    warn: (message, extra) => note(`  ${who}: ${message} ${JSON.stringify(extra ?? {})}`),
  });
  const violation = (message: string): never => {
    throw new InvariantViolation(`${message}\n  journal:\n    ${journal.join('\n    ')}`);
  };

  const cover = (partition: string, by: Execution, kind: Coverage['kind'], since = tick) => {
    const list = coverage.get(partition) ?? [];
    if (kind === 'processed') {
      // I3: processed again only if something landed since the last job of this partition started, or the
      // run of that job died before its last step dealt with its claim.
      const last = [...list].reverse().find((c) => c.kind !== 'manual');
      if (last) {
        const lastRun = executions.find((e) => e.arn === last.by);
        const arrivedSince = landed.some(
          (o) => o.partition === partition && Math.max(o.landedAt, o.pendingWrittenAt ?? 0) >= last.since,
        );
        if (!arrivedSince && lastRun?.claimDealtWith && !last.unfinished)
          violation(`I3: ${partition} processed again by ${by.name} with nothing new since ${lastRun.name}`);
      }
    }
    list.push({ tick, by: by.arn, kind, since });
    dirty = true;
    coverage.set(partition, list);
    note(`${kind} ${partition} by ${by.name}`);
  };

  const checkWorking = (e: Execution) => {
    const others = executions.filter((o) => o !== e && o.working);
    if (others.length > 0) violation(`I2: ${e.name} works while ${others.map((o) => o.name).join(', ')} also work`);
  };

  async function readAll(prefix: string): Promise<Array<Record<string, unknown>>> {
    const out = (await dynamo.send({
      constructor: { name: 'QueryCommand' },
      input: {
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': 'DS#orders', ':p': prefix },
      },
    })) as { Items?: Array<Record<string, unknown>> };
    return out.Items ?? [];
  }

  async function checkI1(final: boolean) {
    if (!dirty && !final) return;
    dirty = false;
    checks++;
    const pending = new Set((await readAll('PENDING#')).map((i) => String(i.sk).slice('PENDING#'.length)));
    const claimed = new Set(
      (await readAll('CLAIM#')).flatMap((i) => [...((i.partitions as Set<string> | undefined) ?? [])]),
    );
    if (final && pending.size > 0) violation(`I4: still pending after the drain: ${[...pending].join(', ')}`);
    if (final && claimed.size > 0) violation(`I4: still claimed after the drain: ${[...claimed].join(', ')}`);
    for (const o of landed) {
      if (!o.recorded) continue;
      const covered = (coverage.get(o.partition) ?? []).some((c) => c.tick >= o.landedAt);
      if (covered) continue;
      if (final) violation(`I4: ${o.id} was recorded but never processed nor named`);
      if (!pending.has(o.partition) && !claimed.has(o.partition))
        violation(`I1: ${o.id} is recorded, but not pending, not claimed, not processed, not named`);
    }
  }

  // ---- actors ---------------------------------------------------------------------------------------------

  let broken: unknown;
  function spawn(label: string, body: () => Promise<unknown>) {
    actors.push(
      s
        .schedule(Promise.resolve(), label)
        .then(body)
        .catch((error: unknown) => {
          // An actor may end on a fault it was given (its retries are part of its body); anything else is a
          // broken invariant or a bug, and fails the scenario.
          if (!isInjected(error)) broken ??= error;
        }),
    );
  }

  function intake(event: Plan['events'][number], n: number, delivery: number) {
    spawn(`land event ${n}#${delivery}`, async () => {
      const key = `orders/${partitionOfDay(event.day)}/f${event.file}.csv`;
      const id = `${key}#${n}`;
      let object = landed.find((o) => o.id === id);
      if (!object) {
        object = { id, partition: partitionOfDay(event.day), landedAt: tick, recorded: false };
        landed.push(object);
      }
      const s3 = {
        id: `e${n}`,
        source: 'aws.s3',
        'detail-type': 'Object Created',
        time: '2024-03-01T10:00:00Z',
        detail: { bucket: { name: 'raw-bucket' }, object: { key: encodeS3Key(key), size: 1, sequencer: `${n + 1}0` } },
      };
      for (let attempt = 0; attempt < DELIVERY_ATTEMPTS || !faultsOn; attempt++) {
        try {
          const written = object;
          const outcome = await acceptObjectCreated(
            s3,
            invocation(() => (written.pendingWrittenAt = tick)),
            logFor(`intake ${n}`),
          );
          if (outcome.status === 'rejected') violation(`intake rejected a good event: ${outcome.reason}`);
          object.recorded = true;
          dirty = true;
          return;
        } catch (error) {
          if (!isInjected(error) || attempt > MAX_ATTEMPTS) throw error;
          await s.schedule(Promise.resolve(), 'EventBridge retry');
        }
      }
      // Retries exhausted: the event waits in the dead-letter queue and is replayed (replay-dead-letters).
      pendingReplays.push(() => intake(event, n, delivery));
    });
  }
  const pendingReplays: Array<() => void> = [];

  function die(e: Execution, status: 'ABORTED' | 'TIMED_OUT' | 'FAILED') {
    if (e.status !== 'RUNNING') return;
    note(`${e.name} ends ${status}`);
    e.status = status;
    e.working = false;
    const deliveries = faultsOn ? (plan.executions[e.index]?.statusDeliveries ?? 1) : 1;
    for (let d = 0; d < deliveries; d++) statusHandler(e, status, d);
  }

  function statusHandler(e: Execution, status: string, delivery: number) {
    spawn(`status ${e.name} ${status}#${delivery}`, async () => {
      const event = {
        detail: { executionArn: e.arn, status, input: JSON.stringify(e.input), startDate: e.startedAt },
      };
      for (let attempt = 0; attempt < 3 || !faultsOn; attempt++) {
        try {
          return await releaseLeaseOfDeadExecution(event, invocation(), logFor(`status handler of ${e.name}`));
        } catch (error) {
          if (!isInjected(error) || attempt > MAX_ATTEMPTS) throw error;
          await s.schedule(Promise.resolve(), 'Lambda async retry');
        }
      }
      return undefined; // lost after its retries: the lease's expiry and the catch-up cover it
    });
  }

  function catchUp(label: string) {
    spawn(label, async () => catchUpAll(invocation(), logFor(label)));
  }

  function spawnExecution(name: string, arn: string, input: ExecutionInput) {
    const e: Execution = {
      arn,
      name,
      input,
      startedAt: clock,
      index: executions.length,
      status: 'RUNNING',
      working: false,
      claimDealtWith: false,
      steps: 0,
    };
    executions.push(e);
    spawn(`execution ${name}`, () => runExecution(e));
  }

  /** One Task state: the ASL's Retry (attempts), then its Catch. */
  async function task<T>(
    e: Execution,
    body: (deps: Deps, log: Log) => Promise<T>,
  ): Promise<{ ok: true; out: T } | { ok: false; error: Error }> {
    e.steps++;
    const fate = faultsOn ? plan.executions[e.index] : undefined;
    if (fate?.abortBeforeStep === e.steps) die(e, 'ABORTED');
    if (e.status !== 'RUNNING') throw new Dead();
    let last: Error = new Error('no attempt');
    for (let attempt = 0; attempt < STEP_ATTEMPTS || !faultsOn; attempt++) {
      try {
        return { ok: true, out: await body(invocation(), logFor(e.name)) };
      } catch (error) {
        last = error as Error;
        // A named step error the ASL does not retry (LeaseHeldError, ...) goes to the Catch; a bug fails the model.
        if (error instanceof SluiceError && !error.retryable) break;
        if (!isInjected(error) && !(error instanceof SluiceError)) throw error;
        if (attempt > MAX_ATTEMPTS) throw error;
        await s.schedule(Promise.resolve(), 'Retry interval');
        if (e.status !== 'RUNNING') throw new Dead();
      }
    }
    return { ok: false, error: last };
  }

  async function wait(e: Execution, seconds: number) {
    const until = clock + seconds * 1000;
    await s.schedule(Promise.resolve(), `Wait ${seconds}s`);
    if (clock < until) advance((until - clock) / 1000);
    if (e.status !== 'RUNNING') throw new Dead();
  }

  function end(e: Execution, status: 'SUCCEEDED' | 'FAILED') {
    e.working = false;
    if (status === 'FAILED') die(e, 'FAILED');
    else e.status = 'SUCCEEDED';
  }

  async function runExecution(e: Execution): Promise<void> {
    try {
      const executionArn = e.arn;
      const prepared = await task(e, (deps, log) => prepareRun({ request: e.input as never, executionArn }, deps, log));
      if (!prepared.ok) {
        await task(e, (deps, log) =>
          notifyFailure(
            { executionArn, state: { dataset: 'orders', failure: { prepareRun: { Error: prepared.error.name } } } },
            deps,
            log,
          ),
        );
        return end(e, 'FAILED'); // "Was the run prepared?" no: it holds no lease
      }
      checkWorking(e);
      e.working = true;
      const run = prepared.out.run;
      let partitions: PartitionValues[] = await claimedList(world.deps, prepared.out.debounce);
      let claimSince = tick;
      const state: Record<string, unknown> = { run, partitions };
      if (run.mode === 'automatic') {
        let waitSeconds = prepared.out.debounce.waitSeconds;
        for (;;) {
          await wait(e, waitSeconds);
          claimSince = tick;
          const claim = await task(e, (deps, log) => claimArrivals({ dataset: 'orders', executionArn }, deps, log));
          if (!claim.ok) {
            delete state.partitions;
            state.failure = { claimArrivals: { Error: claim.error.name, Cause: claim.error.message } };
            return await failurePath(e, state);
          }
          if (claim.out.settled) {
            partitions = await claimedList(world.deps, claim.out);
            note(`${e.name} claimed ${partitions.map(keyOfValues).join(' ')}`);
            break;
          }
          waitSeconds = claim.out.waitSeconds;
        }
        state.partitions = partitions;
      }
      // The job runs: one per partition, all started now (after the claim), each reading every landed file.
      checkWorking(e);
      const fate = plan.executions[e.index];
      const failed = faultsOn && fate?.jobsFail ? partitions.slice(0, 1) : [];
      for (const p of partitions) cover(keyOfValues(p), e, run.mode === 'manual' ? 'manual' : 'processed', claimSince);
      const succeeded = partitions.filter((p) => !failed.includes(p));
      state.jobResults = {
        succeeded,
        failed: failed.map((p) => ({ partition: p, ok: false, state: 'FAILED', message: 'job failed' })),
        succeededCount: succeeded.length,
        failedCount: failed.length,
      };
      if (failed.length > 0) return await failurePath(e, state);
      e.working = false;
      const released = await task(e, (deps, log) =>
        releaseLease(
          { dataset: 'orders', executionArn, outcome: 'succeeded', runStartedAt: iso(e.startedAt), state },
          deps,
          log,
        ),
      );
      if (!released.ok) return end(e, 'FAILED'); // its Catch goes to the failure path; modelled as a failed end
      e.claimDealtWith = true;
      end(e, 'SUCCEEDED');
    } catch (error) {
      if (error instanceof Dead) return;
      throw error;
    }
  }

  async function failurePath(e: Execution, state: Record<string, unknown>): Promise<void> {
    e.working = false;
    const notified = await task(e, (deps, log) =>
      notifyFailure({ executionArn: e.arn, state: state as never }, deps, log),
    );
    note(`${e.name} failure path; notified: ${notified.ok}`);
    if (!notified.ok)
      // A failed job that no notification names is retried by a later run: that re-run is expected.
      for (const f of (state.jobResults as { failed?: Array<{ partition: PartitionValues }> } | undefined)?.failed ??
        [])
        for (const c of coverage.get(keyOfValues(f.partition)) ?? []) if (c.by === e.arn) c.unfinished = true;
    if (notified.ok) {
      state.notification = notified.out;
      const named = (notified.out.report.rerunInput as { partitions?: PartitionValues[] } | null)?.partitions ?? [];
      for (const p of named)
        if (!coverage.get(keyOfValues(p))?.some((c) => c.by === e.arn)) cover(keyOfValues(p), e, 'named');
    }
    const released = await task(e, (deps, log) =>
      releaseLease(
        { dataset: 'orders', executionArn: e.arn, outcome: 'failed', runStartedAt: iso(e.startedAt), state },
        deps,
        log,
      ),
    );
    if (released.ok) e.claimDealtWith = true;
    note(`${e.name} released after failure: ${released.ok ? JSON.stringify(released.out) : released.error.name}`);
    end(e, 'FAILED');
  }

  // ---- the scenario ---------------------------------------------------------------------------------------

  plan.events.forEach((event, n) => {
    for (let d = 0; d < event.deliveries; d++) intake(event, n, d);
  });
  for (let i = 0; i < plan.catchUps; i++) catchUp(`catch-up ${i}`);
  plan.manualRuns.forEach((day, i) => {
    const name = `manual-${i}`;
    spawnExecution(name, world.executions.executionArnFor(name), {
      dataset: 'orders',
      partitions: [valuesOfDay(day)] as never,
      skipCrawler: true,
    });
  });
  plan.jumps.forEach((seconds, i) => spawn(`clock +${seconds}s #${i}`, async () => advance(seconds)));

  const settle = async () => {
    do await new Promise((resolve) => setImmediate(resolve));
    while (inFlight > 0);
  };
  const drive = async () => {
    await settle();
    while (s.count() > 0) {
      await s.waitOne();
      tick++;
      await settle();
      if (broken) throw broken;
      await checkI1(false);
    }
  };
  await drive();

  // Drain: no more faults; DLQ replays; time passes (runs' Waits, leases expire); the catch-up schedule runs.
  faultsOn = false;
  for (const replay of pendingReplays.splice(0)) replay();
  await drive();
  for (let round = 0; round < 40; round++) {
    advance(RUN_LEASE_SECONDS + 1);
    catchUp(`drain catch-up ${round}`);
    await drive();
    const pending = (await readAll('PENDING#')).length + (await readAll('CLAIM#')).length;
    if (pending === 0 && !executions.some((e) => e.status === 'RUNNING')) break;
  }
  await Promise.all(actors);
  if (broken) throw broken;
  await checkI1(true);
  return { dynamoCalls: calls, executions: executions.length, checks };
}

/** Runs a scenario with Math.random seeded (execution names use it), so a seed replays exactly. */
export async function runSeededScenario(s: fc.Scheduler, plan: Plan): Promise<ScenarioResult> {
  const random = Math.random;
  let state = 0x9e3779b9;
  Math.random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  try {
    return await runScenario(s, plan);
  } finally {
    Math.random = random;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Fixed in CI; override with SLUICE_PROTOCOL_SEED to replay a failure (the seed is printed on failure). */
export const PROTOCOL_SEED = Number(process.env.SLUICE_PROTOCOL_SEED ?? 20_241_110);
