/**
 * SNS (awsQuery: form-encoded Action=Publish, XML answers). Publish enforces the documented Subject rule: "UTF-8
 * text with no line breaks or control characters, and less than 100 characters long"
 * (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html); a bad subject answers InvalidParameter, as SNS does.
 */
import { AwsFault, xmlEscape, type Body, type FakeAwsServer, type JsonValue } from './server';

export interface Published {
  topicArn: string;
  subject?: string;
  message: string;
  attributes: Record<string, string>;
}

export class FakeSns {
  readonly published: Published[] = [];

  reset(): void {
    this.published.length = 0;
  }

  register(server: FakeAwsServer): void {
    server.register({
      name: 'sns',
      protocol: 'awsQuery',
      operations: { Publish: (b) => this.publish(b) },
      xml: (operation, result) =>
        `<${operation}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><${operation}Result>` +
        `<MessageId>${xmlEscape(String((result as { MessageId: string }).MessageId))}</MessageId>` +
        `</${operation}Result><ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata></${operation}Response>`,
    });
  }

  private publish(body: Body): JsonValue {
    const subject = body.Subject as string | undefined;
    if (subject !== undefined && (subject.length >= 100 || subject.length === 0 || /[^\x20-\x7e]/.test(subject)))
      throw new AwsFault('InvalidParameter', 'Invalid parameter: Subject');
    const message = String(body.Message ?? '');
    if (Buffer.byteLength(message) > 262_144)
      throw new AwsFault('InvalidParameter', 'Invalid parameter: Message too long');
    const attributes: Record<string, string> = {};
    for (let i = 1; body[`MessageAttributes.entry.${i}.Name`] !== undefined; i++)
      attributes[body[`MessageAttributes.entry.${i}.Name`]] = body[`MessageAttributes.entry.${i}.Value.StringValue`];
    const published: Published = { topicArn: body.TopicArn, message, attributes };
    if (subject !== undefined) published.subject = subject;
    this.published.push(published);
    return { MessageId: `msg-${this.published.length}` };
  }
}
