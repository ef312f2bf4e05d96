import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SqsDeadLetters } from '../../adapters/aws/sqs';
import { replayDeadLetters } from '../../domain/intake';
import type { Log } from '../../domain/common';
import { catchUpAll } from '../../domain/runs';
import { fakeWorld } from '../support/fakes';

const sqsMock = mockClient(SQSClient);
const log: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const URL = 'https://sqs.eu-west-1.amazonaws.com/1/sluice-dev-dead-letters';

const event = (key: string) => ({
  id: key,
  source: 'aws.s3',
  'detail-type': 'Object Created',
  time: '2024-03-01T10:00:00Z',
  detail: { bucket: { name: 'raw-bucket' }, object: { key, size: 10, sequencer: '0A' } },
});

beforeEach(() => sqsMock.reset());

test('replays EventBridge and Lambda-destination dead letters through the intake, then deletes them', async () => {
  const world = fakeWorld();
  sqsMock
    .on(ReceiveMessageCommand)
    .resolvesOnce({
      Messages: [
        { MessageId: 'm1', ReceiptHandle: 'r1', Body: JSON.stringify(event('orders/year=2024/month=03/day=01/a.csv')) },
        {
          MessageId: 'm2',
          ReceiptHandle: 'r2',
          Body: JSON.stringify({ requestPayload: event('orders/year=2024/month=03/day=02/b.csv') }),
        },
        { MessageId: 'm3', ReceiptHandle: 'r3', Body: 'not json' },
      ],
    })
    .resolves({ Messages: [] });
  const result = await replayDeadLetters(world.deps, new SqsDeadLetters(new SQSClient({}), URL), log);
  expect(result).toEqual({ replayed: 2, rejected: 1, keptForLater: 0 });
  expect(sqsMock).toHaveReceivedCommandTimes(DeleteMessageCommand, 3);
  expect(await world.arrivals.pendingSummary('orders')).toMatchObject({ partitions: 2 });
  expect(world.executions.started).toHaveLength(1);
});

test('a dead letter that fails again stays in the queue', async () => {
  const world = fakeWorld();
  world.deps.arrivals.recordArrival = () =>
    Promise.reject(Object.assign(new Error('table unavailable'), { name: 'AwsThrottledError' }));
  sqsMock.on(ReceiveMessageCommand).resolves({
    Messages: [
      { MessageId: 'm1', ReceiptHandle: 'r1', Body: JSON.stringify(event('orders/year=2024/month=03/day=01/a.csv')) },
    ],
  });
  const result = await replayDeadLetters(world.deps, new SqsDeadLetters(new SQSClient({}), URL), log);
  expect(result).toEqual({ replayed: 0, rejected: 0, keptForLater: 1 });
  expect(sqsMock).not.toHaveReceivedCommand(DeleteMessageCommand);
});

test('the catch-up schedule starts runs only for datasets with pending arrivals', async () => {
  const world = fakeWorld();
  await world.arrivals.recordArrival({
    dataset: 'clicks',
    partitionKey: 'dt=2024-01-01/hour=01',
    objectKey: 'k',
    sequencer: '1',
    size: 1,
    arrivedAt: '',
  });
  const started = await catchUpAll(world.deps, log);
  expect(started.orders).toBeNull();
  expect(started.clicks).toContain('clicks-schedule-');
  expect(world.executions.started).toHaveLength(1);
});
