/**
 * Issue 23 item 5: the intake resolves ambiguous (URL-encoded) keys with HeadObject in parallel, at most
 * RESOLVE_CONCURRENCY at once, and only until the invocation's deadline allows: records not resolved by then come
 * back as batch item failures (SQS redelivers them alone), none is lost. HeadObject is the real S3 adapter over
 * aws-sdk-client-mock.
 */
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3Objects } from '../../adapters/aws/s3';
import {
  acceptBatch,
  RESOLVE_CONCURRENCY,
  RESOLVE_RESERVE_MS,
  type BatchDeps,
  type SqsRecord,
} from '../../domain/intake/batch';
import type { Log } from '../../domain/common';
import { memoryBatchDeps } from '../support/intake-deps';

const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };
const START = Date.parse('2024-03-01T10:00:00Z');
const s3Mock = mockClient(S3Client);

/** An event whose key reads two ways ('+' literal, or a space): only HeadObject can tell. */
function ambiguousRecord(n: number): SqsRecord {
  const key = `orders/year=2024/month=01/day=0${1 + (n % 3)}/red+flower-${n}.csv`;
  const body = {
    version: '0',
    id: `id-${n}`,
    'detail-type': 'Object Created',
    source: 'aws.s3',
    time: '2024-03-01T10:00:00Z',
    detail: { bucket: { name: 'raw-bucket' }, object: { key, size: 120, sequencer: `0${n}` }, reason: 'PutObject' },
  };
  return { messageId: `m-${n}`, body: JSON.stringify(body) };
}

function deps(): BatchDeps {
  return memoryBatchDeps(START, new S3Objects(new S3Client({ region: 'eu-west-1' })));
}

beforeEach(() => s3Mock.reset());
afterAll(() => s3Mock.restore());

describe('intake key resolution (issue 23 item 5)', () => {
  test('resolves keys in parallel, never more than RESOLVE_CONCURRENCY HeadObject calls at once', async () => {
    let inFlight = 0;
    let most = 0;
    s3Mock.on(HeadObjectCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return {};
    });
    const records = Array.from({ length: 100 }, (_, n) => ambiguousRecord(n));
    const outcome = await acceptBatch({ Records: records }, deps(), quiet, { remainingMs: () => 30_000 });
    process.stdout.write(`intake key resolution: 100 ambiguous keys, at most ${most} HeadObject at once\n`);
    expect(s3Mock.commandCalls(HeadObjectCommand)).toHaveLength(100);
    expect(most).toBe(RESOLVE_CONCURRENCY);
    expect(outcome.records.map((r) => r.status)).toEqual(Array(100).fill('accepted'));
    // The literal '+' form exists, so it is the key recorded.
    expect(outcome.records[0]).toMatchObject({ event: { objectKey: expect.stringContaining('red+flower-0') } });
    expect(outcome.batchItemFailures).toEqual([]);
  });

  test('records not resolved before the deadline come back as batch item failures; none is lost', async () => {
    // Keys of odd records hang (a HeadObject that never answers before the deadline); even ones answer at once.
    s3Mock.on(HeadObjectCommand).callsFake(async (input: { Key: string }) => {
      const n = Number(/flower-(\d+)/.exec(input.Key)![1]);
      if (n % 2 === 1) await new Promise(() => undefined);
      return {};
    });
    const records = Array.from({ length: 40 }, (_, n) => ambiguousRecord(n));
    const outcome = await acceptBatch({ Records: records }, deps(), quiet, {
      remainingMs: () => RESOLVE_RESERVE_MS + 1_000,
    });
    const statusOf = new Map(outcome.records.map((r) => [r.messageId, r.status]));
    // Every record has an outcome: accepted, or failed and retried; nothing is dropped.
    expect(outcome.records).toHaveLength(40);
    for (let n = 0; n < 40; n += 1) {
      const status = statusOf.get(`m-${n}`);
      if (n % 2 === 1) expect(status).toBe('failed');
      else expect(['accepted', 'failed']).toContain(status);
    }
    const failed = new Set(outcome.batchItemFailures.map((f) => f.itemIdentifier));
    expect([...statusOf].filter(([, s]) => s === 'failed').map(([id]) => id)).toEqual([...failed]);
    expect(outcome.records.find((r) => r.messageId === 'm-1')).toMatchObject({
      reason: expect.stringContaining("before the invocation's deadline"),
    });
    // The hanging calls hold 16 slots at most, so the answering ones still got through: some were accepted.
    expect(outcome.records.filter((r) => r.status === 'accepted').length).toBeGreaterThan(0);
  });

  test('without a deadline (the local queue) every record is resolved', async () => {
    s3Mock.on(HeadObjectCommand).resolves({});
    const records = Array.from({ length: 20 }, (_, n) => ambiguousRecord(n));
    const outcome = await acceptBatch({ Records: records }, deps(), quiet);
    expect(outcome.records.map((r) => r.status)).toEqual(Array(20).fill('accepted'));
  });
});
