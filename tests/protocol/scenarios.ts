/**
 * The protocol checker's scenarios (docs/protocol.md, "The checker"): the real cores and adapters on the in-memory
 * DynamoDB, under tests/protocol/checker.ts. Each scenario is small (one dataset, two or three objects) and
 * explored exhaustively within its fault bound. The ghost state follows every object from its event to the run
 * that processes it or the notification that names it, through the store's own writes.
 *
 * The environment around the cores, as AWS behaves:
 * - SQS: a batch whose records failed (ReportBatchItemFailures) or whose invocation crashed comes back later, as a
 *   new invocation, at any point of the schedule (so before and after a run's quiet period and claim alike).
 * - Step Functions: StartExecution of a new name starts an execution (its steps are actors); the same name and
 *   input while open answers success; a closed one ExecutionAlreadyExists. A step that throws a retryable error,
 *   or whose Lambda crashed, is retried (Retry); a fatal error goes to the failure path (Catch), or fails the
 *   execution in its first step. A dead execution's status-change event runs the handler (which EventBridge
 *   retries when it fails), unless the scenario loses it.
 * - Time stands still (quiet period 0), except in scenarios that let it pass a lease's expiry.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoArrivalBatches } from '../../adapters/aws/dynamo-arrival-batches';
import { DynamoArrivalLedger, DynamoRunLeases } from '../../adapters/aws/dynamo-state';
import { SfnExecutions } from '../../adapters/aws/sfn';
import { MemoryArtifactStore } from '../../adapters/memory/artifact-store';
import type { AppliedCall, MemoryDynamo } from '../../adapters/memory/dynamo';
import { MEMORY_STATE_TABLE, memoryStateStore } from '../../adapters/memory/state';
import { parseConfig } from '../../domain/config/config';
import { SluiceError, type Log } from '../../domain/common';
import { acceptBatch, type BatchDeps, type SqsRecord } from '../../domain/intake';
import { partitionFromKey, type ResolvedConfig } from '../../domain/config';
import type { Deps } from '../../domain/deps';
import { catchUpAll, releaseLeaseOfDeadExecution } from '../../domain/runs';
import { claimArrivals, prepareRun, releaseLease, notifyFailure } from '../../domain/steps';
import type { ExecutionInput } from '../../schemas/types.generated';
import { ORDERS_CONFIG } from '../support/fakes';
import { SnsNotifier } from '../../adapters/aws/sns';
import { MemorySnsTopic } from '../../adapters/memory/sns';
import type { Footprint, Sched, Scenario, World } from './checker';

const T0 = Date.parse('2024-03-01T10:00:00Z');
const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:sluice-check';
const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

export interface ScenarioSpec {
  name: string;
  maxFaults: number;
  /** Intake invocations at the start: each a list of objects (`day/n`, n identifies the object). */
  batches: string[][];
  /** Batches delivered when the first run has claimed: they race with its end (its release step). */
  lateBatches?: string[][];
  /** A manual run of these partitions (days), started by hand at the start. */
  manual?: number[];
  /** Runs fail the partition of this day (job failure): the run notifies and fails. */
  failDay?: number;
  /** The first automatic run is aborted right after its claim (ABORTED: no release step). */
  abortFirstRun?: boolean;
  /** Status-change events are lost. */
  loseStatusEvents?: boolean;
  /** A catch-up at the start (racing everything), and one after the clock passed every lease's expiry. */
  catchUp?: 'start' | 'after-expiry';
  maxClaimPartitions?: number;
  /** Faults only at calls whose description contains one of these (keeps big scenarios tractable). */
  faultsAt?: string[];
  /**
   * Faults only at the calls of actors whose name starts with one of these (a step's retries and an intake's
   * redeliveries included: `intake1` covers `intake1'`). Used where the actors are symmetric (two intakes of the
   * same shape: faulting one covers the other) or to split one scenario's fault space between two runs of it.
   */
  faultActors?: string[];
}

const objectKey = (o: string) => {
  const [day, n] = o.split('/');
  return `orders/year=2024/month=01/day=${day!.padStart(2, '0')}/part-${n}.csv`;
};
const partitionOfDay = (day: number) => `year=2024/month=01/day=${String(day).padStart(2, '0')}`;

function s3Record(o: string, delivery: string): SqsRecord {
  const [, n] = o.split('/');
  return {
    messageId: `msg-${o}-${delivery}`,
    body: JSON.stringify({
      version: '0',
      id: `ev-${o}`,
      'detail-type': 'Object Created',
      source: 'aws.s3',
      time: '2024-03-01T10:00:00Z',
      detail: {
        bucket: { name: 'raw-bucket' },
        object: { key: objectKey(o), size: 10, sequencer: Number(n).toString(16).padStart(8, '0') },
        reason: 'PutObject',
      },
    }),
  };
}

const isWrite = (command: string) => !/^(Get|Query|BatchGet)/.test(command);

type Key = { pk?: string; sk?: string };
const itemName = (table: unknown, key: Key | undefined) => `${String(table)}|${key?.pk}|${key?.sk}`;

/**
 * The items a DynamoDB call touches (tests/protocol/checker.ts, Footprint): its key, a transaction's keys (a
 * ConditionCheck only reads), a BatchGet's keys, a Query's range (`pk`, and the `begins_with` prefix if any).
 * Anything else: undefined, which commutes with nothing.
 */
function footprintOf(name: string, input: Record<string, unknown>): Footprint | undefined {
  const table = input.TableName;
  switch (name) {
    case 'GetCommand':
      return { reads: [itemName(table, input.Key as Key)], writes: [] };
    case 'PutCommand':
      return { reads: [], writes: [itemName(table, input.Item as Key)] };
    case 'UpdateCommand':
    case 'DeleteCommand':
      return { reads: [], writes: [itemName(table, input.Key as Key)] };
    case 'TransactWriteCommand': {
      const fp: Footprint = { reads: [], writes: [] };
      for (const action of input.TransactItems as Array<Record<string, Record<string, unknown>>>) {
        const [kind, body] = Object.entries(action)[0]!;
        const item = itemName(body.TableName, (body.Key ?? body.Item) as Key);
        (kind === 'ConditionCheck' ? fp.reads : fp.writes).push(item);
      }
      return fp;
    }
    case 'BatchGetCommand': {
      const reads: string[] = [];
      for (const [t, request] of Object.entries(input.RequestItems as Record<string, { Keys: Key[] }>))
        for (const key of request.Keys) reads.push(itemName(t, key));
      return { reads, writes: [] };
    }
    case 'QueryCommand': {
      const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
      const condition = String(input.KeyConditionExpression ?? '');
      const pk = /\bpk\s*=\s*(:\w+)/.exec(condition)?.[1];
      if (!pk || typeof values[pk] !== 'string') return undefined;
      const prefix = /begins_with\(\s*sk\s*,\s*(:\w+)\s*\)/.exec(condition)?.[1];
      const from = prefix && typeof values[prefix] === 'string' ? (values[prefix] as string) : '';
      if (!prefix && /sk/.test(condition)) return undefined; // another range condition: be conservative
      return { reads: [`${String(table)}|${values[pk] as string}|${from}*`], writes: [] };
    }
    default:
      return undefined;
  }
}

function describeCommand(name: string, input: Record<string, unknown>): string {
  const key = (input.Key ?? input.Item) as { pk?: string; sk?: string } | undefined;
  if (key) return `${name.replace('Command', '')} ${key.pk}/${key.sk}`;
  if (name === 'TransactWriteCommand') {
    const items = input.TransactItems as Array<Record<string, { Key?: { sk?: string }; Item?: { sk?: string } }>>;
    return `Transact[${items
      .map((i) => {
        const [kind, body] = Object.entries(i)[0]!;
        return `${kind[0]}:${(body.Key ?? body.Item)?.sk}`;
      })
      .join(' ')}]`;
  }
  return `${name.replace('Command', '')} ${String(input.KeyConditionExpression ?? '')} ${JSON.stringify(input.ExpressionAttributeValues ?? {})}`;
}

/** The ghost state: where each object is, by the store's own writes. */
class Ghost {
  readonly recorded = new Set<string>();
  readonly pending = new Map<string, Set<string>>();
  readonly claimed = new Map<string, Map<string, Set<string>>>();
  readonly processed = new Map<string, number>();
  readonly notified = new Set<string>();
  violation: string | undefined;

  observe(call: AppliedCall): void {
    const claimWrite = call.writes.find((w) => w.key.sk.startsWith('CLAIM#'));
    const arn = claimWrite?.key.sk.slice('CLAIM#'.length);
    for (const w of call.writes) {
      if (w.key.pk.startsWith('EV#') && !w.before && w.after) {
        const object = `${w.key.pk}|${w.key.sk}`;
        this.recorded.add(object);
        const p = String(w.after.partition);
        this.pending.set(p, new Set([...(this.pending.get(p) ?? []), object]));
      }
    }
    for (const w of call.writes) {
      if (!w.key.sk.startsWith('PENDING#')) continue;
      const p = w.key.sk.slice('PENDING#'.length);
      if (!w.after && arn) {
        // Claimed: the pending objects move into the claim.
        const claim = this.claimed.get(arn) ?? new Map<string, Set<string>>();
        claim.set(p, new Set([...(claim.get(p) ?? []), ...(this.pending.get(p) ?? [])]));
        this.claimed.set(arn, claim);
        this.pending.delete(p);
      } else if (!w.after) this.violation ??= `pending ${p} deleted outside a claim`;
      else if (arn && claimWrite?.after !== undefined && call.command === 'TransactWriteCommand') {
        // Returned: the claim's objects of p are pending again.
        const claim = this.claimed.get(arn);
        const back = claim?.get(p) ?? new Set<string>();
        this.pending.set(p, new Set([...(this.pending.get(p) ?? []), ...back]));
        claim?.delete(p);
      }
    }
    if (claimWrite && !claimWrite.after && arn) {
      // Forgotten: everything it held must have been processed or named in a notification by its run.
      for (const objects of this.claimed.get(arn)?.values() ?? [])
        for (const o of objects)
          if (!this.processed.has(o) && !this.notified.has(o))
            this.violation ??= `I1: ${o} was forgotten with ${arn}'s claim, neither processed nor notified`;
      this.claimed.delete(arn);
    }
  }

  process(arn: string, failedPartition: string | undefined): string[] {
    const failed: string[] = [];
    for (const [p, objects] of this.claimed.get(arn) ?? []) {
      if (p === failedPartition) {
        failed.push(p);
        for (const o of objects) this.notified.add(o);
        continue;
      }
      for (const o of objects) {
        const n = (this.processed.get(o) ?? 0) + 1;
        this.processed.set(o, n);
        if (n > 1) this.violation ??= `I3: ${o} processed ${n} times (last by ${arn})`;
      }
    }
    return failed;
  }

  fingerprint(): string {
    const sets = (m: Map<string, Set<string>>) =>
      [...m.entries()]
        .filter(([, s]) => s.size > 0)
        .map(([k, s]) => `${k}=${[...s].sort().join('+')}`)
        .sort()
        .join(';');
    return [
      sets(this.pending),
      [...this.claimed.entries()]
        .map(([a, m]) => `${a}{${sets(m)}}`)
        .sort()
        .join(';'),
      [...this.processed.entries()]
        .map(([o, n]) => `${o}x${n}`)
        .sort()
        .join(';'),
      [...this.notified].sort().join(';'),
    ].join('|');
  }
}

/** The checker's config: parsed once per scenario (Ajv validation is most of a replay's set-up otherwise). */
function checkerConfig(spec: ScenarioSpec): ResolvedConfig {
  return parseConfig(
    {
      ...ORDERS_CONFIG,
      datasets: [
        {
          ...ORDERS_CONFIG.datasets[0],
          debounce: {
            quietSeconds: 0,
            maxWaitSeconds: 0,
            ...(spec.maxClaimPartitions ? { maxClaimPartitions: spec.maxClaimPartitions } : {}),
          },
        },
      ],
    },
    'checker config',
  );
}

/** The run-failure topic (FIFO: deploy/state.ts RUN_FAILURES). */
const RUN_FAILURE_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:sluice-check-failures-runs.fifo';

export function buildScenario(spec: ScenarioSpec): Scenario {
  const config = checkerConfig(spec);
  return {
    name: spec.name,
    maxFaults: spec.maxFaults,
    build: async (sched: Sched): Promise<World> => {
      let now = T0;
      const clock = { now: () => new Date(now) };
      const store: MemoryDynamo = memoryStateStore(() => now);
      const ghost = new Ghost();
      store.listeners.push((call) => ghost.observe(call));
      const faultable = (describe: string) =>
        (!spec.faultsAt || spec.faultsAt.some((f) => describe.includes(f))) &&
        (!spec.faultActors || spec.faultActors.some((a) => (sched.currentActor ?? '').startsWith(a)));
      const doc = {
        send: (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
          const name = command.constructor.name;
          const describe = describeCommand(name, command.input);
          return sched.gate(
            describe,
            isWrite(name) && faultable(describe),
            () => store.execute(name, command.input),
            faultable(describe),
            footprintOf(name, command.input),
          );
        },
      } as unknown as DynamoDBDocumentClient;

      const dataset = config.datasets[0]!;

      // Step Functions: executions by name, with StartExecution's idempotency rules.
      const executions = new Map<string, { input: string; open: boolean; index: number }>();
      // The failure notification: the real notify step and SNS adapter, publishing to an in-memory FIFO topic
      // (adapters/memory/sns.ts: SNS's deduplication rules; time stands still, so within the 5-minute interval, which
      // the step's Retry keeps to: tests/protocol/notify-once.test.ts).
      const topic = new MemorySnsTopic(RUN_FAILURE_TOPIC, () => now);
      const failedRuns = new Set<string>();
      const sns = {
        send: (command: { input: Parameters<MemorySnsTopic['publish']>[0] }) =>
          sched.gate(
            `Publish ${RUN_FAILURE_TOPIC.slice(RUN_FAILURE_TOPIC.lastIndexOf(':') + 1)}`,
            faultable('Publish'),
            () => topic.publish(command.input),
            faultable('Publish'),
            { reads: [], writes: ['sns|run-failures'] },
          ),
      };
      const notifier = new SnsNotifier(sns as never, RUN_FAILURE_TOPIC);
      const working = new Set<string>();
      let runsStarted = 0;
      const sfn = {
        send: (command: { input: { name: string; input: string } }) =>
          sched.gate(
            `StartExecution ${command.input.name}`,
            faultable('StartExecution'),
            () => {
              const { name, input } = command.input;
              const known = executions.get(name);
              if (known) {
                if (known.open && known.input === input)
                  return { executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${name}` };
                throw Object.assign(new Error(`execution ${name} already exists`), { name: 'ExecutionAlreadyExists' });
              }
              executions.set(name, { input, open: true, index: runsStarted + 1 });
              const arn = `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${name}`;
              startExecution(arn, name, JSON.parse(input) as ExecutionInput);
              return { executionArn: arn };
            },
            faultable('StartExecution'),
            // It reads and writes the executions (and the run counter) only, and spawns the run's first step, parked
            // before its first call: with another actor's DynamoDB or SNS call, either order reaches the same state
            // (the same executions, store, actors and parked calls, all named independently of the order).
            { reads: [], writes: ['sfn|executions'] },
          ),
      } as unknown as SFNClient;

      const deps: Deps = {
        config,
        clock,
        crawlers: undefined as never,
        jobs: undefined as never,
        queries: undefined as never,
        notifier,
        arrivals: new DynamoArrivalLedger(doc, MEMORY_STATE_TABLE, clock.now),
        leases: new DynamoRunLeases(doc, MEMORY_STATE_TABLE),
        executions: new SfnExecutions(sfn, STATE_MACHINE),
        artifacts: new MemoryArtifactStore('artifacts'),
        consoleUrl: (arn) => arn,
      };
      const batchDeps: BatchDeps = {
        ...deps,
        batches: new DynamoArrivalBatches(doc, MEMORY_STATE_TABLE),
        poison: { send: async () => {} },
      };

      const retryable = (error: unknown) =>
        !(error instanceof SluiceError) || error.retryable || (error as Error).name === 'AwsThrottledError';

      /** A Lambda-backed step: retried on a retryable error or a crash; `fatal` on any other error. */
      function stepActor<T>(
        name: string,
        attempt: number,
        fn: () => Promise<T>,
        ok: (value: T) => void,
        fatal: (error: unknown) => void,
      ): void {
        const again = () => stepActor(name, attempt + 1, fn, ok, fatal);
        sched.spawn(
          `${name}.${attempt}`,
          fn,
          (outcome) => {
            if (outcome.ok) ok(outcome.value as T);
            else if (retryable(outcome.error)) again();
            else fatal(outcome.error);
          },
          again,
        );
      }

      function statusEvent(arn: string, input: ExecutionInput, status: 'FAILED' | 'ABORTED'): void {
        if (spec.loseStatusEvents) return;
        stepActor(
          `status(${short(arn)})`,
          1,
          () =>
            releaseLeaseOfDeadExecution(
              { detail: { executionArn: arn, status, input: JSON.stringify(input) } },
              deps,
              quiet,
            ),
          () => {},
          () => {},
        );
      }

      const short = (arn: string) => arn.slice(arn.lastIndexOf(':') + 1);

      function startExecution(arn: string, name: string, input: ExecutionInput): void {
        const run = short(arn);
        const automatic = 'trigger' in input;
        const index = ++runsStarted;
        const end = (status: 'SUCCEEDED' | 'FAILED' | 'ABORTED') => {
          executions.get(name)!.open = false;
          working.delete(arn);
          if (status !== 'SUCCEEDED') statusEvent(arn, input, status);
        };
        const release = (outcome: 'succeeded' | 'failed', failed: string[]) => {
          working.delete(arn);
          const state =
            outcome === 'failed'
              ? {
                  notification: {
                    report: {
                      rerunInput: {
                        dataset: dataset.name,
                        partitions: failed.map((p) => partitionFromKey(dataset, p)),
                      },
                    },
                  },
                }
              : undefined;
          stepActor(
            `${run}.release`,
            1,
            () =>
              releaseLease(
                {
                  dataset: dataset.name,
                  executionArn: arn,
                  outcome,
                  runStartedAt: new Date(T0).toISOString(),
                  ...(state ? { state } : {}),
                },
                deps,
                quiet,
              ),
            () => end(outcome === 'failed' ? 'FAILED' : 'SUCCEEDED'),
            () => end('FAILED'),
          );
        };
        const afterClaim = () => {
          if (index === 1 && spec.lateBatches && phase === 0) {
            phase = 1;
            spec.lateBatches.forEach((batch, i) => intake(batch, `late${i + 1}`));
          }
          if (working.size > 0) ghost.violation ??= `I2: ${run} works while ${[...working].map(short).join(', ')} does`;
          working.add(arn);
          if (spec.abortFirstRun && index === 1) return end('ABORTED');
          const failed = ghost.process(arn, spec.failDay ? partitionOfDay(spec.failDay) : undefined);
          if (failed.length === 0) return release('succeeded', []);
          // The notify step (Retry on retryable errors and crashes), then the release after the failure.
          failedRuns.add(arn);
          stepActor(
            `${run}.notify`,
            1,
            () =>
              notifyFailure(
                {
                  executionArn: arn,
                  state: {
                    run: { dataset: dataset.name, mode: 'automatic', skipCrawler: true, executionArn: arn },
                    jobResults: {
                      failed: failed.map((p) => ({
                        partition: partitionFromKey(dataset, p),
                        ok: false,
                        state: 'FAILED',
                      })),
                      succeededCount: 0,
                    },
                  },
                } as never,
                deps,
                quiet,
              ),
            () => release('failed', failed),
            () => release('failed', failed),
          );
        };
        stepActor(
          `${run}.prepare`,
          1,
          () => prepareRun({ request: structuredClone(input) as never, executionArn: arn }, deps, quiet),
          () => {
            if (!automatic) {
              // A manual run processes the partitions it names; it claims nothing.
              working.add(arn);
              return release('succeeded', []);
            }
            stepActor(
              `${run}.claim`,
              1,
              () => claimArrivals({ dataset: dataset.name, executionArn: arn }, deps, quiet),
              afterClaim,
              () => release('failed', []),
            );
          },
          () => end('FAILED'), // LeaseHeldError: the run ends failed at once, touching nothing
        );
      }

      let phase = 0;
      let finalTick = false;
      /**
       * An intake invocation, named by what it delivers: the n-th batch of the scenario, and a redelivery after its
       * parent's name (so names do not depend on the order things happened in: partial-order reduction needs that).
       */
      function intake(objects: string[], name: string): void {
        intakeRecords(
          name,
          objects.map((o) => s3Record(o, name)),
        );
      }
      function intakeRecords(name: string, records: SqsRecord[]): void {
        const again = (rs: SqsRecord[]) => {
          if (rs.length === 0) return;
          const next = `${name}'`;
          intakeRecords(
            next,
            rs.map((r) => ({ ...r, messageId: `${r.messageId}'` })),
          );
        };
        sched.spawn(
          name,
          () => acceptBatch({ Records: records }, batchDeps, quiet),
          (outcome) => {
            if (!outcome.ok) return again(records);
            const failed = new Set(
              (outcome.value as { batchItemFailures: Array<{ itemIdentifier: string }> }).batchItemFailures.map(
                (f) => f.itemIdentifier,
              ),
            );
            again(records.filter((r) => failed.has(r.messageId)));
          },
          () => again(records),
        );
      }

      function catchUp(label: string): void {
        stepActor(
          `catchup-${label}`,
          1,
          () => catchUpAll(deps, quiet),
          () => {},
          () => {},
        );
      }

      spec.batches.forEach((batch, i) => intake(batch, `intake${i + 1}`));
      if (spec.manual) {
        const input = {
          dataset: dataset.name,
          partitions: spec.manual.map((d) => partitionFromKey(dataset, partitionOfDay(d))),
        } as unknown as ExecutionInput;
        sched.spawn('manual', () => deps.executions.startExecution('manual-1', input));
      }
      if (spec.catchUp === 'start') catchUp('start');
      const sent = new Set(
        [...spec.batches.flat(), ...(spec.lateBatches ?? []).flat()].map(
          (o) => `EV#${objectKey(o)}|${Number(o.split('/')[1]).toString(16).padStart(8, '0')}`,
        ),
      );

      /** Notifications SNS delivered, per run (the report names the execution). */
      const deliveredPerRun = () => {
        const counts = new Map<string, number>();
        for (const m of topic.delivered) {
          const arn = [...failedRuns].find((a) => m.message.includes(`Execution:    ${a}\n`));
          counts.set(arn ?? '?', (counts.get(arn ?? '?') ?? 0) + 1);
        }
        return counts;
      };

      return {
        fingerprint: () =>
          `${topic.delivered.map((m) => m.deduplicationId).join(',')}\n${store.fingerprint()}\n${ghost.fingerprint()}\n${[
            ...executions.entries(),
          ]
            // The index too: the first run's steps differ (late batches, abort), so which one was first is state.
            .map(([n, e]) => `${n}:${e.open}:${e.index}`)
            .sort()
            .join(',')}\n${[...working].sort().join(',')}|${phase}|${now}|${finalTick}`,
        always: () => {
          if (ghost.violation) return ghost.violation;
          for (const [arn, n] of deliveredPerRun()) if (n > 1) return `I6: ${short(arn)} notified ${n} times`;
          return undefined;
        },
        quiet: () => {
          if (phase <= 1 && spec.catchUp === 'after-expiry') {
            phase = 2;
            now = T0 + 49 * 3600 * 1000; // past every lease's expiry (a run's lease: 48 h + 15 min)
            catchUp('late');
            return true;
          }
          // A start-up lease left behind with nothing pending (an intake took it, found the arrivals already
          // taken, and its give-back failed; its redelivery, a duplicate with nothing pending, rightly does
          // nothing): harmless, since an intake that finds a start-up lease re-issues its start rather than
          // deferring to it. The next catch-up tick (or arrival) finishes it: model the tick, once.
          const starting = store.items(MEMORY_STATE_TABLE).some((i) => i.sk === 'LEASE' && i.starting);
          if (starting && !finalTick) {
            finalTick = true;
            catchUp('tick');
            return true;
          }
          return false;
        },
        atEnd: () => {
          for (const o of sent) if (!ghost.recorded.has(o)) return `I1: event ${o} was delivered but never recorded`;
          for (const o of ghost.recorded)
            if (!ghost.processed.has(o) && !ghost.notified.has(o))
              return `I1: ${o} was recorded but is neither processed nor named in a notification (stranded)`;
          const lease = store.items(MEMORY_STATE_TABLE).find((i) => i.sk === 'LEASE' && i.owner);
          if (lease) return `L1: the lease is still held by ${short(String(lease.owner))} with nothing running`;
          const delivered = deliveredPerRun();
          for (const arn of failedRuns)
            if ((delivered.get(arn) ?? 0) !== 1)
              return `I6: the failed run ${short(arn)} was notified ${delivered.get(arn) ?? 0} times`;
          const claims = store.items(MEMORY_STATE_TABLE).filter((i) => String(i.sk).startsWith('CLAIM#'));
          if (claims.length > 0) return `L1: claims left behind: ${claims.map((c) => c.sk).join(', ')}`;
          return undefined;
        },
      };
    },
  };
}

/** The scenarios `npm run check:protocol` explores, with their bounds. */
export const SCENARIOS: ScenarioSpec[] = [
  // Small scenarios: up to two faults per schedule, at any call.
  { name: 'one object, one intake', maxFaults: 2, batches: [['1/1']] },
  {
    name: 'a run aborted after its claim: status-change event returns the claim',
    maxFaults: 2,
    batches: [['1/1']],
    abortFirstRun: true,
  },
  // Two faults in the run's own steps (notify and release included: defect 8), one anywhere (the next entry).
  { name: 'a run fails a partition', maxFaults: 2, batches: [['1/1']], failDay: 1, faultActors: ['orders-'] },
  { name: 'a run fails a partition (one fault anywhere)', maxFaults: 1, batches: [['1/1']], failDay: 1 },
  // Multi-actor scenarios: one fault per schedule, at any call of any actor unless the entry says otherwise.
  {
    name: 'two objects, two concurrent intakes, two partitions',
    maxFaults: 1,
    batches: [['1/1'], ['2/2']],
  },
  {
    name: 'one event delivered to two concurrent intakes',
    maxFaults: 1,
    batches: [['1/1'], ['1/1']],
  },
  {
    name: 'an arrival while the run ends (late event)',
    maxFaults: 1,
    batches: [['1/1']],
    lateBatches: [['2/2']],
  },
  { name: 'a manual run racing an automatic one', maxFaults: 1, batches: [['1/1']], manual: [3] },
  { name: 'claim cap 1: two partitions, two runs', maxFaults: 1, batches: [['1/1', '2/2']], maxClaimPartitions: 1 },
  // One fault in the racing intake by default. With one at any call of any actor it takes 23 minutes on its own
  // (274,969 schedules, 382,491 states, 0 violations), too long for every `npm run check:protocol`:
  // SLUICE_CHECK_WIDE=1 runs that bound (docs/protocol.md).
  {
    name: 'a run fails a partition; an arrival races its end',
    maxFaults: 1,
    batches: [['1/1']],
    lateBatches: [['2/2']],
    failDay: 1,
    ...(process.env.SLUICE_CHECK_WIDE === '1' ? {} : { faultActors: ['late1'] }),
  },
  {
    name: 'a run aborted, its status event lost: the catch-up after expiry',
    maxFaults: 1,
    batches: [['1/1']],
    abortFirstRun: true,
    loseStatusEvents: true,
    catchUp: 'after-expiry',
  },
  { name: 'the catch-up racing an intake', maxFaults: 1, batches: [['1/1']], catchUp: 'start' },
];
