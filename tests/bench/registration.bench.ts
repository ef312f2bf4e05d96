/**
 * Issue 23, item 4: which registration path, by measurement. Prints one line per path for N partitions:
 *
 *   npx tsx tests/bench/registration.bench.ts [--partitions 10000] [--quota 20]
 *
 * - `athena-ddl-waves` runs the real cores (start step, await step, one completion event per query, next wave) over
 *   the AWS adapter with aws-sdk-client-mock and a quota-counting Athena (tests/support/athena-sim.ts), and COUNTS
 *   every AWS call: Athena StartQueryExecution/GetQueryExecution, the wait store's DynamoDB calls, SendTaskSuccess,
 *   and the Step Functions state transitions of the registration loop.
 * - `glue-batch-create-partition` is the alternative, not built: one GetTable (the table's StorageDescriptor, which
 *   each PartitionInput needs) and one BatchCreatePartition per 100 partitions (the API's maximum:
 *   https://docs.aws.amazon.com/glue/latest/webapi/API_BatchCreatePartition.html), all in the start step.
 *
 * Seconds are MODELLED, from the counts and the parameters below (no AWS account exists to time them):
 *   DDL_SECONDS   one ALTER TABLE ADD PARTITION of `partitionsPerStatement` partitions, queued to done;
 *   EVENT_SECONDS Athena Query State Change to the completion Lambda (EventBridge: "typically within seconds");
 *   STEP_SECONDS  one Lambda Task state (invoke + the state transition);
 *   CALL_SECONDS  one synchronous AWS API call from a Lambda (a Glue BatchCreatePartition of 100, or a start).
 */
import './quiet-logs';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
  type GetQueryExecutionCommandInput,
  type StartQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { parseArgs } from 'node:util';
import { AthenaQueries } from '../../adapters/aws/athena';
import { MemoryRecheckQueue, MemoryTaskTokens, MemoryWaitStore, type TokenAnswer } from '../../adapters/memory/waits';
import type { Deps } from '../../domain/deps';
import { startPartitionRefresh } from '../../domain/steps';
import type { WaitStore } from '../../domain/waits';
import { awaitCompletion, completeFromEvent } from '../../domain/waits/completion';
import type { RefreshState } from '../../schemas/types.generated';
import { AthenaSim, partitions } from '../support/athena-sim';
import { fakeWorld } from '../support/fakes';
import { athenaEvent, recordingLog } from '../support/waits';

const DDL_SECONDS = 3;
const EVENT_SECONDS = 1;
const STEP_SECONDS = 0.5;
const CALL_SECONDS = 0.3;
const GLUE_PARTITIONS_PER_CALL = 100;

const { values } = parseArgs({
  options: { partitions: { type: 'string', default: '10000' }, quota: { type: 'string', default: '20' } },
});
const count = Number(values.partitions);
const quota = Number(values.quota);
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-bench:registration';

/** Counts every call of a wait store's methods (each is one DynamoDB call per subject on AWS; see dynamo-waits.ts). */
function countingStore(store: MemoryWaitStore, counter: { calls: number }): WaitStore {
  return {
    recordWait: async (record) => {
      counter.calls += record.subjects.length;
      return store.recordWait(record);
    },
    waitersOf: async (subject) => ((counter.calls += 1), store.waitersOf(subject)),
    waiter: async (subject, id) => ((counter.calls += 1), store.waiter(subject, id)),
    markSent: async (record, delivery, now) => {
      counter.calls += record.subjects.length;
      return store.markSent(record, delivery, now);
    },
    markFinal: async (record, subject) => ((counter.calls += 1), store.markFinal(record, subject)),
    finalSubjects: async (record) => ((counter.calls += 1), store.finalSubjects(record)),
  };
}

async function athenaDdlWaves() {
  const world = fakeWorld();
  const sim = new AthenaSim(quota);
  const athena = mockClient(AthenaClient);
  athena.on(StartQueryExecutionCommand).callsFake((i: StartQueryExecutionCommandInput) => sim.start(i));
  athena.on(GetQueryExecutionCommand).callsFake((i: GetQueryExecutionCommandInput) => sim.get(i));
  const deps: Deps = { ...world.deps, queries: new AthenaQueries(new AthenaClient({ region: 'eu-west-1' })) };
  const dynamo = { calls: 0 };
  const tokens = new MemoryTaskTokens();
  const waitDeps = { waits: countingStore(new MemoryWaitStore(), dynamo), tokens, rechecks: new MemoryRecheckQueue() };
  const log = recordingLog();
  const list = partitions(count);
  let refresh = await startPartitionRefresh(
    { dataset: 'orders', executionArn: EXECUTION, partitions: list },
    deps,
    log,
  );
  let transitions = 2; // "Register ..." and its Choice
  let waves = 0;
  let seconds = STEP_SECONDS + refresh.queryExecutionIds.length * CALL_SECONDS;
  while (!refresh.done) {
    waves += 1;
    let answer: TokenAnswer | undefined;
    tokens.open(`t${waves}`, (a) => (answer = a));
    const check = { kind: 'refresh' as const, input: { dataset: 'orders', executionArn: EXECUTION, refresh } };
    await awaitCompletion(check, `t${waves}`, deps, waitDeps, log);
    for (const id of refresh.queryExecutionIds) {
      sim.finish(id);
      await completeFromEvent(athenaEvent(id, 'SUCCEEDED'), deps, waitDeps, log);
    }
    // The wave's queries run side by side: one DDL time, then the last event, then the wait Task and its Choice.
    seconds += STEP_SECONDS + DDL_SECONDS + EVENT_SECONDS + STEP_SECONDS;
    transitions += 2;
    refresh = (answer as { ok: true; output: RefreshState }).output;
    if (refresh.done) break;
    refresh = await startPartitionRefresh(
      { dataset: 'orders', executionArn: EXECUTION, partitions: list, refresh },
      deps,
      log,
    );
    seconds += STEP_SECONDS + refresh.queryExecutionIds.length * CALL_SECONDS;
    transitions += 1;
  }
  const starts = athena.commandCalls(StartQueryExecutionCommand).length;
  const gets = athena.commandCalls(GetQueryExecutionCommand).length;
  const sends = tokens.answers.length;
  athena.restore();
  return {
    path: 'athena-ddl-waves',
    calls: starts + gets + dynamo.calls + sends,
    detail: `StartQueryExecution ${starts} GetQueryExecution ${gets} DynamoDB ${dynamo.calls} SendTask ${sends} waves ${waves} max active DDL ${sim.maxActive}`,
    transitions,
    seconds,
  };
}

function glueBatchCreatePartition() {
  const batches = Math.ceil(count / GLUE_PARTITIONS_PER_CALL);
  return {
    path: 'glue-batch-create-partition',
    calls: 1 + batches,
    detail: `GetTable 1 BatchCreatePartition ${batches} (modelled: not built)`,
    transitions: 2,
    seconds: STEP_SECONDS + (1 + batches) * CALL_SECONDS,
  };
}

async function main() {
  for (const r of [await athenaDdlWaves(), glueBatchCreatePartition()])
    console.log(
      `path: ${r.path} partitions: ${count} aws calls: ${r.calls} state transitions: ${r.transitions} modelled seconds: ${r.seconds.toFixed(1)} (${r.detail})`,
    );
}

void main();
