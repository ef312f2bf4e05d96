/**
 * `npx tsx tests/bench/intake-burst.bench.ts [--objects 100000] [--partitions 24] [--seconds 60]`
 *
 * Issue 12's burst: N objects land in S seconds of simulated time into P partitions of one dataset, and reach the
 * batched intake as SQS hands them to Lambda (a batch closes at 1,000 records or 5 s after its first record: the
 * event source mapping's BatchSize and MaximumBatchingWindowInSeconds). The state is DynamoDB on dynalite, with
 * the write-accounting middleware on the client. Prints the figures of the issue; the write counts do not depend
 * on the machine, the events per second do (dynalite runs in this process: read it as a floor, not as DynamoDB).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DynamoArrivalBatches } from '../../adapters/aws/dynamo-arrival-batches';
import { DynamoArrivalLedger, DynamoRunLeases } from '../../adapters/aws/dynamo-state';
import { acceptBatch, type BatchDeps, type SqsRecord } from '../../domain/intake';
import type { Log } from '../../domain/common';
import { startDynamo } from '../support/dynamo';
import { RecordingExecutions, testConfig, TickingClock } from '../support/fakes';
import { accountWrites } from '../support/write-accounting';

const BATCH_SIZE = 1000;
const BATCH_WINDOW_MS = 5000;
const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      objects: { type: 'string', default: '100000' },
      partitions: { type: 'string', default: '24' },
      seconds: { type: 'string', default: '60' },
    },
  });
  const objects = Number(values.objects);
  const partitions = Number(values.partitions);
  const seconds = Number(values.seconds);
  if (!(objects > 0 && partitions >= 1 && partitions <= 28 && seconds > 0))
    throw new Error('--objects > 0, --partitions 1..28 (days of one month), --seconds > 0');
  const dynamo = await startDynamo();
  try {
    await dynamo.createTable('burst');
    const start = Date.parse('2024-03-01T10:00:00Z');
    const clock = new TickingClock(start, 0);
    const executions = new RecordingExecutions();
    const deps: BatchDeps = {
      config: testConfig(),
      clock,
      arrivals: new DynamoArrivalLedger(dynamo.doc, 'burst', () => clock.now()),
      leases: new DynamoRunLeases(dynamo.doc, 'burst'),
      executions,
      batches: new DynamoArrivalBatches(dynamo.doc, 'burst'),
      poison: { send: async () => undefined },
    };
    const accounting = accountWrites(dynamo.doc, { now: () => clock.current });
    const record = (n: number): SqsRecord => {
      const day = String((n % partitions) + 1).padStart(2, '0');
      const body = {
        id: `e${n}`,
        source: 'aws.s3',
        'detail-type': 'Object Created',
        time: new Date(start + Math.floor((n * seconds * 1000) / objects)).toISOString(),
        detail: {
          bucket: { name: 'raw-bucket' },
          object: {
            key: `orders/year=2024/month=01/day=${day}/part-${n}.csv`,
            size: 100,
            sequencer: n.toString(16).toUpperCase(),
          },
        },
      };
      return { messageId: `m${n}`, body: JSON.stringify(body) };
    };
    const rates: number[] = [];
    let invocations = 0;
    let failures = 0;
    let handlerMs = 0;
    let batch: number[] = [];
    let batchOpenedAt = start;
    const deliver = async (closedAt: number) => {
      clock.current = closedAt;
      const records = batch.map(record);
      const t0 = performance.now();
      const result = await acceptBatch({ Records: records }, deps, quiet);
      const ms = performance.now() - t0;
      handlerMs += ms;
      rates.push((records.length * 1000) / ms);
      failures += result.batchItemFailures.length;
      invocations++;
      batch = [];
    };
    for (let n = 0; n < objects; n++) {
      const at = start + Math.floor((n * seconds * 1000) / objects);
      if (batch.length > 0 && at >= batchOpenedAt + BATCH_WINDOW_MS) await deliver(batchOpenedAt + BATCH_WINDOW_MS);
      if (batch.length === 0) batchOpenedAt = at;
      batch.push(n);
      if (batch.length === BATCH_SIZE) await deliver(at);
    }
    if (batch.length > 0) await deliver(batchOpenedAt + BATCH_WINDOW_MS);
    const hottest = accounting.hottest();
    const claimed = await deps.arrivals.claimPending(
      'orders',
      'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:bench',
      new Date(clock.current),
    );
    const lines = [
      `objects: ${objects}  partitions: ${partitions}  simulated seconds: ${seconds}  batches: ${invocations} (BatchSize ${BATCH_SIZE}, window ${BATCH_WINDOW_MS / 1000} s)`,
      `DynamoDB writes per object: ${(accounting.writes / objects).toFixed(3)}  (goal <= 1.1)`,
      `most writes to one item in any second: ${hottest?.writes ?? 0}  (${hottest?.item ?? '-'}; goal <= 100, DynamoDB serves ~1,000)`,
      `Lambda invocations per 1,000 objects: ${((invocations * 1000) / objects).toFixed(2)}  (goal <= 5)`,
      `executions started: ${executions.started.length}  (goal: exactly 1)`,
      `partitions claimed: ${claimed.length}  (goal: exactly ${partitions})`,
      `records reported as failures: ${failures}`,
      `events per second through the handler on dynalite: median ${median(rates).toFixed(0)} over ${rates.length} batches (total ${((objects * 1000) / handlerMs).toFixed(0)})`,
    ];
    for (const line of lines) console.log(line);
    accounting.detach();
    const ok =
      accounting.writes / objects <= 1.1 &&
      (hottest?.writes ?? 0) <= 100 &&
      (invocations * 1000) / objects <= 5 &&
      executions.started.length === 1 &&
      claimed.length === partitions &&
      failures === 0;
    if (!ok) process.exitCode = 1;
  } finally {
    await dynamo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
