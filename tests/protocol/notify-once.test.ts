/**
 * Issue 21, defect 8 and invariant I6: exactly one failure notification per failed run, never zero.
 *
 * The notify step is a Lambda behind the state machine's Retry. When SNS accepted its Publish and the Lambda then
 * timed out (or the SDK's answer was lost), the Retry runs the step again, which publishes again. The fix
 * (adapters/aws/sns.ts, deploy/state.ts RUN_FAILURES): a FIFO topic, every attempt publishing with the
 * execution as MessageDeduplicationId, and a Retry whose attempts all fall within SNS's 5-minute deduplication
 * interval. The topic is the in-memory SNS (adapters/memory/sns.ts), which keeps SNS's documented delivery rules.
 *
 * Before the fix (the notifier sent no deduplication id, to a standard topic) the first test delivered 2 messages.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DEDUPLICATION_WINDOW_SECONDS, deduplicationIdFor, SnsNotifier } from '../../adapters/aws/sns';
import { FIFO_DEDUPLICATION_MS, MemorySnsTopic } from '../../adapters/memory/sns';
import type { Deps } from '../../domain/deps';
import type { Log } from '../../domain/common';
import { notifyFailure } from '../../domain/steps';
import type { NotifyFailureInput } from '../../schemas/types.generated';
import { fakeWorld } from '../support/fakes';

const log: Log = { debug() {}, info() {}, warn() {}, error() {} };
const FIFO_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:sluice-test-failures-runs.fifo';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:run-1';

const failedRun = (executionArn = EXECUTION): NotifyFailureInput =>
  ({
    executionArn,
    state: {
      run: { dataset: 'orders', mode: 'automatic', skipCrawler: false, executionArn },
      failure: { startCrawler: { Error: 'CrawlerFailedError', Cause: 'crawler failed' } },
    },
  }) as unknown as NotifyFailureInput;

/** The notify step's world, publishing through the real SNS adapter to `topic`; `fault` decides each attempt. */
function world(topic: MemorySnsTopic, fault: (attempt: number) => 'none' | 'lost-answer' | 'throttled' = () => 'none') {
  let attempt = 0;
  const client = {
    send: async (command: PublishCommand) => {
      const kind = fault(++attempt);
      if (kind === 'throttled')
        throw Object.assign(new Error('Rate exceeded (injected)'), { name: 'Throttling', $metadata: {} });
      const answer = await topic.client.send(command);
      if (kind === 'lost-answer')
        // SNS accepted the message; the Lambda never sees the answer (it timed out, or the socket did).
        throw Object.assign(new Error('socket timed out after SNS accepted (injected)'), {
          name: 'TimeoutError',
          $metadata: {},
        });
      return answer;
    },
  } as unknown as SNSClient;
  const deps: Deps = { ...fakeWorld().deps, notifier: new SnsNotifier(client, topic.topicArn) };
  return deps;
}

/** The state machine's Retry of the notify step, as far as this test needs it: run again on a retryable error. */
async function notifyWithRetry(deps: Deps, input: NotifyFailureInput, attempts: number): Promise<number> {
  for (let n = 1; n <= attempts; n++) {
    try {
      await notifyFailure(input, deps, log);
      return n;
    } catch {
      // retried
    }
  }
  throw new Error(`the notification failed ${attempts} times`);
}

describe('defect 8: the failure notification is delivered once per failed run', () => {
  test('SNS accepts, the Lambda times out, the Retry publishes again: one notification delivered', async () => {
    let now = Date.parse('2024-03-01T10:00:00Z');
    const topic = new MemorySnsTopic(FIFO_TOPIC, () => now);
    const deps = world(topic, (attempt) => (attempt === 1 ? 'lost-answer' : 'none'));
    now += 62_000; // the attempt's timeout and the first backoff
    const attempts = await notifyWithRetry(deps, failedRun(), 5);
    expect(attempts).toBe(2);
    expect(topic.delivered).toHaveLength(1);
    expect(topic.delivered[0]!.deduplicationId).toBe(deduplicationIdFor(EXECUTION));
    expect(topic.delivered[0]!.message).toContain(EXECUTION);
  });

  test('every attempt times out after SNS accepted, then one succeeds: still one', async () => {
    const topic = new MemorySnsTopic(FIFO_TOPIC);
    const deps = world(topic, (attempt) => (attempt < 4 ? 'lost-answer' : 'none'));
    await notifyWithRetry(deps, failedRun(), 5);
    expect(topic.delivered).toHaveLength(1);
  });

  test('never zero: throttled attempts publish nothing, the retry that gets through delivers it', async () => {
    const topic = new MemorySnsTopic(FIFO_TOPIC);
    const deps = world(topic, (attempt) => (attempt < 3 ? 'throttled' : 'none'));
    await notifyWithRetry(deps, failedRun(), 5);
    expect(topic.delivered).toHaveLength(1);
  });

  test('two failed runs: two notifications (the id is the execution, not the text)', async () => {
    const topic = new MemorySnsTopic(FIFO_TOPIC);
    const deps = world(topic);
    await notifyFailure(failedRun(`${EXECUTION}-a`), deps, log);
    await notifyFailure(failedRun(`${EXECUTION}-b`), deps, log);
    expect(topic.delivered).toHaveLength(2);
    expect(new Set(topic.delivered.map((m) => m.group)).size).toBe(1); // one dataset, one ordering group
  });

  test('a standard topic cannot deduplicate (why the stack uses a FIFO topic): the repeat is delivered', async () => {
    const topic = new MemorySnsTopic('arn:aws:sns:eu-west-1:123456789012:sluice-test-failures');
    const deps = world(topic, (attempt) => (attempt === 1 ? 'lost-answer' : 'none'));
    await notifyWithRetry(deps, failedRun(), 5);
    expect(topic.delivered).toHaveLength(2);
  });

  test('the FIFO publish carries ids SNS accepts: at most 128 characters, whatever the execution ARN', async () => {
    const topic = new MemorySnsTopic(FIFO_TOPIC);
    const long = `arn:aws:states:eu-west-1:123456789012:execution:${'m'.repeat(80)}:${'e'.repeat(80)}`;
    await notifyFailure(failedRun(long), world(topic), log);
    expect(topic.delivered[0]!.deduplicationId!.length).toBeLessThanOrEqual(128);
    expect(topic.delivered[0]!.group!.length).toBeLessThanOrEqual(128);
    const notifier = new SnsNotifier(topic.client as unknown as SNSClient, FIFO_TOPIC);
    await expect(notifier.publish({ subject: 's', message: 'm', attributes: {} })).rejects.toThrow(/deduplication id/);
  });
});

describe("the window argument: every attempt of the notify step publishes within SNS's deduplication interval", () => {
  const asl = JSON.parse(readFileSync(join(__dirname, '../../state-machines/sluice.asl.json'), 'utf8')) as {
    States: Record<string, Record<string, unknown>>;
  };
  const notify = asl.States['Publish the failure notification'] as {
    TimeoutSeconds: number;
    Retry: Array<{ IntervalSeconds: number; BackoffRate: number; MaxAttempts: number; MaxDelaySeconds?: number }>;
  };

  test('the last attempt starts within 5 minutes of the first: attempts x TimeoutSeconds + every backoff', () => {
    expect(DEDUPLICATION_WINDOW_SECONDS * 1000).toBe(FIFO_DEDUPLICATION_MS);
    // One retrier: the attempts and backoffs below are all there are (a second retrier would add its own).
    expect(notify.Retry).toHaveLength(1);
    const [retry] = notify.Retry as [(typeof notify.Retry)[0]];
    let span = notify.TimeoutSeconds; // the first attempt
    for (let n = 0; n < retry.MaxAttempts; n++) {
      // Backoff before retry n+1 (full jitter waits at most this), capped by MaxDelaySeconds.
      const delay = retry.IntervalSeconds * retry.BackoffRate ** n;
      span += Math.min(delay, retry.MaxDelaySeconds ?? Infinity) + notify.TimeoutSeconds;
    }
    expect(span).toBeLessThan(DEDUPLICATION_WINDOW_SECONDS);
  });

  test('past the interval SNS delivers the same id again (the bound the Retry above stays within)', async () => {
    let now = 0;
    const topic = new MemorySnsTopic(FIFO_TOPIC, () => now);
    const publish = () =>
      topic.client.send(
        new PublishCommand({ TopicArn: FIFO_TOPIC, Message: 'm', MessageGroupId: 'g', MessageDeduplicationId: 'd' }),
      );
    await publish();
    now += FIFO_DEDUPLICATION_MS - 1;
    await publish();
    expect(topic.delivered).toHaveLength(1);
    now += 1;
    await publish();
    expect(topic.delivered).toHaveLength(2);
  });
});
