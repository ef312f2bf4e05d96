/**
 * SQS (awsJson1_0 since the SDK moved SQS off awsQuery; X-Amz-Target AmazonSQS.<Operation>). The SDK checks
 * MD5OfMessageBody, so the fake answers the real digest.
 */
import { createHash } from 'node:crypto';
import { AwsFault, type Body, type FakeAwsServer, type JsonValue } from './server';

export class FakeSqs {
  readonly queues = new Map<string, Array<{ MessageId: string; Body: string; ReceiptHandle: string }>>();
  private ids = 0;

  reset(): void {
    this.queues.clear();
  }

  register(server: FakeAwsServer): void {
    server.register({
      name: 'sqs',
      protocol: 'awsJson1_0',
      targetPrefix: 'AmazonSQS',
      operations: {
        SendMessage: (b) => this.send(b),
        ReceiveMessage: (b) => this.receive(b),
        DeleteMessage: (b) => this.remove(b),
      },
    });
  }

  private queue(url: string) {
    if (typeof url !== 'string' || !url) throw new AwsFault('AWS.SimpleQueueService.NonExistentQueue', 'no such queue');
    const queue = this.queues.get(url) ?? [];
    this.queues.set(url, queue);
    return queue;
  }

  private send({ QueueUrl, MessageBody }: Body): JsonValue {
    const id = `m-${++this.ids}`;
    this.queue(QueueUrl).push({ MessageId: id, Body: String(MessageBody), ReceiptHandle: `rh-${id}` });
    return { MessageId: id, MD5OfMessageBody: createHash('md5').update(String(MessageBody)).digest('hex') };
  }

  private receive({ QueueUrl, MaxNumberOfMessages }: Body): JsonValue {
    const messages = this.queue(QueueUrl).slice(0, Number(MaxNumberOfMessages ?? 1));
    return {
      Messages: messages.map((m) => ({ ...m, MD5OfBody: createHash('md5').update(m.Body).digest('hex') })),
    };
  }

  private remove({ QueueUrl, ReceiptHandle }: Body): JsonValue {
    const queue = this.queue(QueueUrl);
    const at = queue.findIndex((m) => m.ReceiptHandle === ReceiptHandle);
    if (at >= 0) queue.splice(at, 1);
    return {};
  }
}
