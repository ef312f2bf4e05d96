import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { NotifierPort } from '../../domain/ports';
import { snsSubject } from '../../domain/steps/notify';
import { call } from './errors';

export class SnsNotifier implements NotifierPort {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(n: { subject: string; message: string; attributes: Record<string, string> }): Promise<string> {
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
        }),
      ),
    );
    return MessageId ?? '';
  }
}
