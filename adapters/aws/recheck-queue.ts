/**
 * The fallback poll's queue: one SQS message per re-check, delayed by the fallback interval (DelaySeconds 0..900,
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html). The queue's
 * consumer is functions/recheck-wait.ts; its own DLQ keeps a message that keeps failing.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MAX_RECHECK_DELAY_SECONDS } from '../../domain/config';
import type { RecheckQueue } from '../../domain/waits';
import { call } from './errors';

export class SqsRecheckQueue implements RecheckQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async recheckLater(message: { subject: string; waiterId: string }, delaySeconds: number): Promise<void> {
    const delay = Math.max(0, Math.min(MAX_RECHECK_DELAY_SECONDS, Math.round(delaySeconds)));
    await call('SQS SendMessage', () =>
      this.sqs.send(
        new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delay }),
      ),
    );
  }
}
