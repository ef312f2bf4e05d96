/**
 * Poison records of the intake queue go to its dead-letter queue with their reason as a message attribute, so an
 * operator sees why without digging through logs. SendMessageBatch takes 10 entries per call and reports failed
 * entries in `Failed` without throwing (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html):
 * any failed entry makes the whole send fail, so the records are retried and never acknowledged unsent.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { AwsThrottledError } from '../../domain/common';
import type { PoisonSink } from '../../domain/intake';
import { call } from './errors';

const ENTRIES_PER_CALL = 10;
/** SQS message attribute values are strings; keep the reason short and the body whole. */
const REASON_LIMIT = 1000;

export class SqsPoisonSink implements PoisonSink {
  constructor(
    private readonly sqs: SQSClient,
    private readonly deadLetterQueueUrl: string,
  ) {}

  async send(records: Array<{ messageId: string; body: string; reason: string }>): Promise<void> {
    for (let i = 0; i < records.length; i += ENTRIES_PER_CALL) {
      const chunk = records.slice(i, i + ENTRIES_PER_CALL);
      const result = await call('SQS SendMessageBatch', () =>
        this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.deadLetterQueueUrl,
            Entries: chunk.map((r, n) => ({
              Id: String(n),
              MessageBody: r.body === '' ? '(empty body)' : r.body,
              MessageAttributes: {
                reason: { DataType: 'String', StringValue: r.reason.slice(0, REASON_LIMIT) },
                sourceMessageId: { DataType: 'String', StringValue: r.messageId },
              },
            })),
          }),
        ),
      );
      if ((result.Failed ?? []).length > 0)
        throw new AwsThrottledError(
          `SQS SendMessageBatch: ${result.Failed?.length} of ${chunk.length} entries failed (${result.Failed?.[0]?.Code ?? 'unknown'})`,
        );
    }
  }
}
