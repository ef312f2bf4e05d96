import fc from 'fast-check';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoArrivalBatches } from '../../adapters/aws/dynamo-arrival-batches';
import { DynamoArrivalLedger, DynamoRunLeases } from '../../adapters/aws/dynamo-state';
import { MemoryDynamo } from '../../adapters/memory/dynamo';
import { AwsThrottledError, type Log } from '../../domain/common';
import {
  acceptBatch,
  type ArrivalBatchStore,
  type BatchDeps,
  type PoisonSink,
  type SqsRecord,
} from '../../domain/intake';
import { RUN_LEASE_SECONDS } from '../../domain/runs';
import { startDynamo, type LocalDynamo } from '../support/dynamo';
import { RecordingExecutions, testConfig, TickingClock } from '../support/fakes';
import { accountWrites } from '../support/write-accounting';

const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };
const START = Date.parse('2024-03-01T10:00:00Z');

let dynamo: LocalDynamo;
let tables = 0;

beforeAll(async () => {
  dynamo = await startDynamo();
});

afterAll(async () => {
  await dynamo.stop();
});

function s3Event(key: string, sequencer: string, time = '2024-03-01T10:00:00Z') {
  return {
    version: '0',
    id: `id-${key}-${sequencer}`,
    'detail-type': 'Object Created',
    source: 'aws.s3',
    time,
    detail: { bucket: { name: 'raw-bucket' }, object: { key, size: 120, sequencer }, reason: 'PutObject' },
  };
}

let messages = 0;
const record = (body: unknown): SqsRecord => ({
  messageId: `m-${++messages}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

const objectRecord = (day: number, n: number) =>
  record(
    s3Event(
      `orders/year=2024/month=01/day=${String(day).padStart(2, '0')}/part-${n}.csv`,
      n.toString(16).toUpperCase().padStart(8, '0'),
    ),
  );

class RecordingPoison implements PoisonSink {
  readonly sent: Array<{ messageId: string; body: string; reason: string }> = [];
  failing = false;
  async send(records: Array<{ messageId: string; body: string; reason: string }>) {
    if (this.failing) throw new AwsThrottledError('SQS SendMessageBatch: throttled');
    this.sent.push(...records);
  }
}

/**
 * A fresh table on moto, or (`memory`) on the in-memory DynamoDB that tests/protocol/adapters-agree.test.ts holds
 * equal to it: the 10,000-object burst and the property test make thousands of 100-action transactions, which moto
 * answers in seconds each.
 */
async function world(kind: 'moto' | 'memory' = 'moto') {
  const table = `batch-${++tables}`;
  let doc = dynamo.doc;
  if (kind === 'memory') {
    const store = new MemoryDynamo(() => START);
    store.createTable(table);
    doc = store.doc as unknown as typeof doc;
  } else await dynamo.createTable(table);
  const clock = new TickingClock(START, 0);
  const executions = new RecordingExecutions();
  const poison = new RecordingPoison();
  const deps: BatchDeps = {
    config: testConfig(),
    clock,
    arrivals: new DynamoArrivalLedger(doc, table, () => clock.now()),
    leases: new DynamoRunLeases(doc, table),
    executions,
    batches: new DynamoArrivalBatches(doc, table),
    poison,
  };
  return { table, clock, executions, poison, deps, doc };
}

describe('the batched intake on DynamoDB (moto; the bursts on the in-memory DynamoDB)', () => {
  test('a burst of 10,000 objects into 24 partitions: ~1 write per object, no hot item, one run, 24 partitions', async () => {
    const w = await world('memory');
    const accounting = accountWrites(w.doc, { now: () => w.clock.current });
    try {
      // The burst's rate of the issue (100,000 objects in 60 s, about 1,667 per second; the full size is the bench),
      // handed over as SQS does: a batch closes at 1,000 records or 5 s after its first record (the batching window).
      const objects = Array.from({ length: 10_000 }, (_, n) => ({
        at: START + Math.floor((n * 60_000) / 100_000),
        day: (n % 24) + 1,
        n,
      }));
      let invocations = 0;
      let accepted = 0;
      let batch: typeof objects = [];
      const deliver = async (closedAt: number) => {
        w.clock.current = closedAt;
        const result = await acceptBatch({ Records: batch.map((o) => objectRecord(o.day, o.n)) }, w.deps, quiet);
        expect(result.batchItemFailures).toEqual([]);
        accepted += batch.length;
        invocations++;
        batch = [];
      };
      for (const o of objects) {
        if (batch.length > 0 && o.at >= batch[0]!.at + 5_000) await deliver(batch[0]!.at + 5_000);
        batch.push(o);
        if (batch.length === 1000) await deliver(o.at);
      }
      if (batch.length > 0) await deliver(batch[0]!.at + 5_000);
      expect(accepted).toBe(objects.length);
      const writesPerObject = accounting.writes / objects.length;
      const hottest = accounting.hottest();
      // The figures of issue 12 (the 100,000-object version is the bench).
      expect(writesPerObject).toBeLessThanOrEqual(1.1);
      expect(hottest!.writes).toBeLessThanOrEqual(100);
      expect(() => accounting.check(100)).not.toThrow();
      expect((invocations * 1000) / objects.length).toBeLessThanOrEqual(5);
      expect(new Set(w.executions.started.map((s) => s.name)).size).toBe(1); // one execution (its start may be re-issued)
      const claimed = await w.deps.arrivals.claimPending(
        'orders',
        w.executions.executionArnFor(w.executions.started[0]!.name), // only the lease holder claims
        new Date(w.clock.current),
      );
      expect(claimed).toHaveLength(24);
    } finally {
      accounting.detach();
    }
  }, 600_000);

  test('a redelivered batch adds nothing and, with a live lease, writes nothing at all', async () => {
    const w = await world();
    const records = [objectRecord(1, 1), objectRecord(1, 2), objectRecord(2, 3)];
    const first = await acceptBatch({ Records: records }, w.deps, quiet);
    expect(first.records.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(w.executions.started).toHaveLength(1);
    // The execution has started and taken its run lease (its first step): a live run lease, not a start-up lease.
    const run = w.executions.executionArnFor(w.executions.started[0]!.name);
    await w.deps.leases.acquire('orders', run, w.clock.now(), RUN_LEASE_SECONDS);
    const accounting = accountWrites(dynamo.doc, { now: () => w.clock.current });
    try {
      const again = await acceptBatch({ Records: records }, w.deps, quiet);
      expect(again.records.map((r) => r.status)).toEqual(['duplicate', 'duplicate', 'duplicate']);
      expect(again.batchItemFailures).toEqual([]);
      expect(accounting.writes).toBe(0);
      expect(w.executions.started).toHaveLength(1);
    } finally {
      accounting.detach();
    }
  });

  test('the same event twice in one batch is recorded once', async () => {
    const w = await world();
    const event = s3Event('orders/year=2024/month=01/day=01/a.csv', '0A');
    const result = await acceptBatch({ Records: [record(event), record(event)] }, w.deps, quiet);
    expect(result.records.map((r) => r.status)).toEqual(['accepted', 'duplicate']);
    const { Item } = await dynamo.doc.send(
      new GetCommand({ TableName: w.table, Key: { pk: 'DS#orders', sk: 'PENDING#year=2024/month=01/day=01' } }),
    );
    expect(Item?.count).toBe(1);
  });

  test('poison goes to the dead-letter queue with its reason; rejected keys are acknowledged with theirs', async () => {
    const w = await world();
    const result = await acceptBatch(
      {
        Records: [
          record('{not json'),
          record({ hello: 'world' }),
          record(s3Event('payments/x.csv', '01')),
          record(s3Event('orders/year=2024/month=13/day=01/a.csv', '02')),
          objectRecord(3, 3),
        ],
      },
      w.deps,
      quiet,
    );
    expect(result.records.map((r) => r.status)).toEqual(['poison', 'poison', 'rejected', 'rejected', 'accepted']);
    expect(w.poison.sent.map((p) => p.reason)).toEqual([
      'message body is not JSON',
      expect.stringMatching(/^not an S3 Object Created event: /),
    ]);
    expect(result.records[2]).toMatchObject({ reason: 'key is outside every dataset prefix' });
    expect(result.batchItemFailures).toEqual([]);
  });

  test('when the dead-letter queue cannot take poison, the record is retried (the redrive policy moves it later)', async () => {
    const w = await world();
    w.poison.failing = true;
    const bad = record('{not json');
    const result = await acceptBatch({ Records: [bad, objectRecord(4, 4)] }, w.deps, quiet);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
    expect(result.records[0]).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/dead-letter queue failed/),
    });
  });

  test('a failed write reports only the records it concerns; their retry completes them', async () => {
    const w = await world();
    const real = w.deps.batches;
    let failPartition = 'year=2024/month=01/day=02';
    const flaky: ArrivalBatchStore = {
      recordedEvents: (events) => real.recordedEvents(events),
      recordEvents: async (dataset, partition, events, at) => {
        if (partition === failPartition) throw new AwsThrottledError('DynamoDB TransactWriteItems: throttled');
        return real.recordEvents(dataset, partition, events, at);
      },
    };
    const records = [
      objectRecord(1, 1),
      objectRecord(1, 2),
      objectRecord(2, 3),
      objectRecord(2, 4),
      objectRecord(3, 5),
    ];
    const first = await acceptBatch({ Records: records }, { ...w.deps, batches: flaky }, quiet);
    expect(first.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      records[2]!.messageId,
      records[3]!.messageId,
    ]);
    expect(new Set(w.executions.started.map((s) => s.name)).size).toBe(1); // one execution (its start may be re-issued)
    failPartition = '';
    const retried = records.filter((r) => first.batchItemFailures.some((f) => f.itemIdentifier === r.messageId));
    const second = await acceptBatch({ Records: retried }, { ...w.deps, batches: flaky }, quiet);
    expect(second.batchItemFailures).toEqual([]);
    // Their transaction wrote nothing (markers and pending update together), so the retry records them.
    expect(second.records.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    const run = w.executions.executionArnFor(w.executions.started[0]!.name); // only the lease holder claims
    const claimed = await w.deps.arrivals.claimPending('orders', run, new Date(w.clock.current));
    expect(claimed.sort()).toEqual([
      'year=2024/month=01/day=01',
      'year=2024/month=01/day=02',
      'year=2024/month=01/day=03',
    ]);
  });

  test("StartExecution failing reports the dataset's records; redelivered, they start the run", async () => {
    const w = await world();
    const executions = w.executions;
    let failing = true;
    const flaky = {
      executionArnFor: (name: string) => executions.executionArnFor(name),
      startExecution: async (name: string, input: never) => {
        if (failing) throw new AwsThrottledError('SFN StartExecution: throttled');
        return executions.startExecution(name, input);
      },
    };
    const records = [objectRecord(5, 1), objectRecord(6, 2)];
    const first = await acceptBatch({ Records: records }, { ...w.deps, executions: flaky }, quiet);
    expect(first.batchItemFailures).toHaveLength(2);
    expect(executions.started).toHaveLength(0);
    failing = false;
    const second = await acceptBatch({ Records: records }, { ...w.deps, executions: flaky }, quiet);
    expect(second.records.map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
    expect(second.batchItemFailures).toEqual([]);
    expect(executions.started).toHaveLength(1);
  });
});

describe('property: every object recorded, one run, duplicates add nothing, whatever fails', () => {
  test('random batches with repeats and injected faults, retried until acknowledged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ day: fc.integer({ min: 1, max: 4 }), n: fc.integer({ min: 0, max: 15 }) }), {
          minLength: 1,
          maxLength: 25,
        }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        async (objects, batchSize, faults) => {
          const w = await world('memory');
          const real = w.deps.batches;
          let call = 0;
          const maybeFail = () => {
            if (faults[call++ % faults.length] && call < 200) throw new AwsThrottledError('injected');
          };
          const flaky: ArrivalBatchStore = {
            recordedEvents: async (events) => (maybeFail(), real.recordedEvents(events)),
            recordEvents: async (...args) => (maybeFail(), real.recordEvents(...args)),
          };
          const deps = { ...w.deps, batches: flaky };
          let queue = objects.map((o) => objectRecord(o.day, o.day * 100 + o.n)); // repeats share a sequencer
          const bodies = new Map(queue.map((r) => [r.messageId, r.body]));
          for (let round = 0; queue.length > 0; round++) {
            expect(round).toBeLessThan(500);
            const batch = queue.slice(0, batchSize);
            const result = await acceptBatch({ Records: batch }, deps, quiet);
            const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
            queue = [...queue.slice(batchSize), ...batch.filter((r) => failed.has(r.messageId))];
          }
          // Every distinct object has its marker; every partition that got one is pending; exactly one run.
          const distinct = new Set(objects.map((o) => `${o.day}/${o.day * 100 + o.n}`));
          for (const body of new Set(bodies.values())) {
            const e = JSON.parse(body) as ReturnType<typeof s3Event>;
            const { Item } = await w.doc.send(
              new GetCommand({
                TableName: w.table,
                Key: { pk: `EV#${e.detail.object.key}`, sk: e.detail.object.sequencer },
              }),
            );
            expect(Item).toBeDefined();
          }
          const days = new Set(objects.map((o) => o.day));
          const summary = await w.deps.arrivals.pendingSummary('orders');
          expect(summary?.partitions).toBe(days.size);
          expect(new Set(w.executions.started.map((s) => s.name)).size).toBe(1); // one execution (its start may be re-issued)
          expect(distinct.size).toBeGreaterThan(0);
        },
      ),
      { numRuns: 10, seed: 12012 },
    );
  }, 120_000);
});
