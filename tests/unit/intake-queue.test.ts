import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { SqsPoisonSink } from '../../adapters/aws/poison-sink';
import { FileDeadLetters, LocalIntakeQueue } from '../../adapters/local/intake-queue';
import { MemoryRunLeases } from '../../adapters/memory/state';
import { batchMetrics } from '../../functions/on-arrival-batch';
import { AwsThrottledError, type Log } from '../../domain/common';
import { eventId, type ArrivalBatchStore, type BatchDeps, type ObjectEvent } from '../../domain/intake';
import type { ArrivalLedger } from '../../domain/runs';
import { RecordingExecutions, testConfig, TickingClock } from '../support/fakes';

const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** Just enough of a store for the queue: markers and pending counts in maps. */
class MapBatches implements ArrivalBatchStore {
  readonly markers = new Set<string>();
  readonly pending = new Map<string, number>();
  failMarkersFor = '';
  async recordedEvents(events: readonly ObjectEvent[]) {
    return new Set(events.map(eventId).filter((id) => this.markers.has(id)));
  }
  async recordEvents(dataset: string, partition: string, events: readonly ObjectEvent[]) {
    if (this.failMarkersFor && events.some((e) => e.objectKey.includes(this.failMarkersFor)))
      throw new AwsThrottledError('throttled');
    const duplicates = events.filter((e) => this.markers.has(eventId(e)));
    const recorded = events.filter((e) => !this.markers.has(eventId(e)));
    for (const e of recorded) this.markers.add(eventId(e));
    this.pending.set(`${dataset}/${partition}`, (this.pending.get(`${dataset}/${partition}`) ?? 0) + recorded.length);
    return { recorded, duplicates };
  }
}

function event(key: string, sequencer: string) {
  return {
    id: key,
    source: 'aws.s3',
    'detail-type': 'Object Created',
    time: '2024-03-01T10:00:00Z',
    detail: { bucket: { name: 'raw-bucket' }, object: { key, size: 10, sequencer } },
  };
}

function setup(lake: string) {
  const batches = new MapBatches();
  const executions = new RecordingExecutions();
  const arrivals = {
    pendingSummary: async () =>
      batches.pending.size > 0 ? { partitions: batches.pending.size, firstArrivalAt: '', lastArrivalAt: '' } : null,
    claimOwners: async () => [],
    returnClaim: async () => [],
  } as unknown as ArrivalLedger;
  const deps: BatchDeps = {
    config: testConfig(),
    clock: new TickingClock(Date.parse('2024-03-01T10:00:00Z'), 0),
    arrivals,
    leases: new MemoryRunLeases(),
    executions,
    batches,
    poison: new FileDeadLetters(join(lake, 'intake-dead-letters.jsonl')),
  };
  return { batches, executions, deps };
}

describe('the local intake queue feeds the same batch handler', () => {
  test('events are batched; failures come back alone; persistent failures and poison end in the dead-letter file', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'sluice-queue-'));
    try {
      const { batches, executions, deps } = setup(lake);
      const sizes: number[] = [];
      const queue = new LocalIntakeQueue(deps, quiet, {
        batchSize: 3,
        windowMs: 5,
        onBatch: (o) => sizes.push(o.records.length),
      });
      for (let i = 0; i < 7; i++) queue.send(event(`orders/year=2024/month=01/day=0${(i % 3) + 1}/f${i}.csv`, `0${i}`));
      queue.send('not an event at all');
      batches.failMarkersFor = 'f4.csv';
      await queue.drain();
      // 8 records in batches of at most 3, plus f4's 4 retries (5 receives in all).
      expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(8 + 4);
      expect(batches.markers.size).toBe(6); // f4 never recorded: its marker always fails
      expect(new Set(executions.started.map((s) => s.name)).size).toBe(1); // one execution (its start re-issued while starting)
      const dead = readFileSync(join(lake, 'intake-dead-letters.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(dead.map((d) => d.reason)).toEqual([
        expect.stringMatching(/^not an S3 Object Created event/),
        expect.stringMatching(/^failed 5 times; last: AwsThrottledError: throttled/),
      ]);
    } finally {
      rmSync(lake, { recursive: true, force: true });
    }
  });
});

describe('the SQS poison sink', () => {
  test('sends 10 per call with the reason as an attribute; any failed entry fails the send', async () => {
    const sqs = mockClient(SQSClient);
    try {
      sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
      const sink = new SqsPoisonSink(new SQSClient({ region: 'eu-west-1' }), 'https://sqs/dlq');
      const records = Array.from({ length: 12 }, (_, i) => ({
        messageId: `m${i}`,
        body: `b${i}`,
        reason: 'message body is not JSON',
      }));
      await sink.send(records);
      const calls = sqs.commandCalls(SendMessageBatchCommand);
      expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 2]);
      expect(calls[0]?.args[0].input.Entries?.[0]).toMatchObject({
        MessageBody: 'b0',
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: 'message body is not JSON' },
          sourceMessageId: { DataType: 'String', StringValue: 'm0' },
        },
      });
      sqs
        .on(SendMessageBatchCommand)
        .resolves({ Successful: [], Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }] });
      await expect(sink.send(records.slice(0, 1))).rejects.toThrow(/1 of 1 entries failed \(InternalError\)/);
    } finally {
      sqs.restore();
    }
  });
});

describe('the batch Lambda publishes the same arrival metrics as the single-record intake', () => {
  test('summed per metric and dataset; poison counts as rejected; failed records count nothing (they come back)', () => {
    const event = { dataset: 'orders', partitionKey: 'p', objectKey: 'k', sequencer: '1', size: 1, arrivedAt: '' };
    const points = batchMetrics([
      { messageId: '1', status: 'accepted', event },
      { messageId: '2', status: 'accepted', event },
      { messageId: '3', status: 'duplicate', event },
      { messageId: '4', status: 'rejected', reason: 'x' },
      { messageId: '5', status: 'poison', reason: 'y' },
      { messageId: '6', status: 'failed', reason: 'z' },
    ]);
    expect(points).toEqual([
      { name: 'ArrivalsAccepted', value: 2, dataset: 'orders' },
      { name: 'ArrivalsDuplicate', value: 1, dataset: 'orders' },
      { name: 'ArrivalsRejected', value: 2, dataset: 'none' },
    ]);
  });
});
