import { createHash } from 'node:crypto';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification, NotifierPort } from '../../domain/common';
import { snsSubject } from '../../domain/steps';
import { call } from './errors';

/**
 * SNS FIFO topics' deduplication interval: "subsequent messages within the deduplication scope and interval, with
 * the same MessageDeduplicationId, are accepted successfully but aren't delivered"; the interval is 5 minutes
 * (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html, MessageDeduplicationId). The notify step's retries
 * must all publish within it (tests/protocol/notify-once.test.ts checks the state machine's Retry against it).
 */
export const DEDUPLICATION_WINDOW_SECONDS = 300;

/**
 * A MessageDeduplicationId "can contain up to 128 alphanumeric characters ... and punctuation" (API_Publish); an
 * execution ARN can be longer (state machine and execution names of 80 characters each), so the id is its SHA-256
 * in hex: 64 characters, the same for every attempt.
 */
export const deduplicationIdFor = (key: string): string => createHash('sha256').update(key).digest('hex');

/** FIFO topics' names end in `.fifo` (https://docs.aws.amazon.com/sns/latest/dg/fifo-topic-code-examples.html). */
const isFifoTopic = (topicArn: string) => topicArn.endsWith('.fifo');

export class SnsNotifier implements NotifierPort {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(n: Notification): Promise<string> {
    const fifo = isFifoTopic(this.topicArn);
    if (fifo && !n.deduplicationId)
      // A FIFO topic without ContentBasedDeduplication refuses a publish without an id (API_Publish).
      throw new Error(`SNS Publish to FIFO topic ${this.topicArn} needs a deduplication id`);
    const { MessageId } = await call('SNS Publish', () =>
      this.sns.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          // Publish refuses a bad subject outright (InvalidParameter) and the notification would be lost.
          Subject: snsSubject(n.subject),
          Message: n.message,
          MessageAttributes: Object.fromEntries(
            Object.entries(n.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
          ),
          ...(fifo
            ? {
                MessageDeduplicationId: deduplicationIdFor(n.deduplicationId!),
                // MessageGroupId is required on FIFO topics; one group per dataset keeps each dataset's failures
                // in order. Same 128-character rule as the deduplication id.
                MessageGroupId: deduplicationIdFor(n.group ?? 'sluice'),
              }
            : {}),
        }),
      ),
    );
    return MessageId ?? '';
  }
}
