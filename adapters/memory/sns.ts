/**
 * An SNS topic in memory with the delivery rules the failure notification relies on (issue 21, defect 8):
 * - a standard topic delivers every accepted Publish;
 * - a FIFO topic (name ending `.fifo`) requires MessageGroupId and MessageDeduplicationId (no content-based
 *   deduplication here: the stack turns it off), and a Publish whose id was accepted within the last 5 minutes "is
 *   accepted successfully but isn't delivered" (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html). The
 *   interval runs from the first accepted publish of the id; duplicates do not extend it.
 * `client` stands in for the SDK's SNSClient (PublishCommand only).
 */
export interface DeliveredMessage {
  messageId: string;
  subject?: string;
  message: string;
  group?: string;
  deduplicationId?: string;
  at: number;
}

export const FIFO_DEDUPLICATION_MS = 5 * 60 * 1000;

const invalid = (message: string) =>
  Object.assign(new Error(message), { name: 'InvalidParameterException', $fault: 'client', $metadata: {} });

export class MemorySnsTopic {
  readonly delivered: DeliveredMessage[] = [];
  private readonly firstAccepted = new Map<string, { at: number; messageId: string }>();
  private published = 0;

  constructor(
    readonly topicArn: string,
    private readonly now: () => number = () => Date.now(),
  ) {}

  get fifo(): boolean {
    return this.topicArn.endsWith('.fifo');
  }

  publish(input: {
    TopicArn?: string;
    Subject?: string;
    Message?: string;
    MessageGroupId?: string;
    MessageDeduplicationId?: string;
  }): { MessageId: string } {
    if (input.TopicArn !== this.topicArn) throw invalid(`Topic does not exist: ${input.TopicArn}`);
    if (typeof input.Message !== 'string' || input.Message.length === 0) throw invalid('Empty message');
    const at = this.now();
    if (!this.fifo) return this.deliver(input, at);
    if (!input.MessageGroupId) throw invalid('The MessageGroupId parameter is required for FIFO topics');
    const id = input.MessageDeduplicationId;
    if (!id)
      throw invalid(
        'The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
      );
    if (id.length > 128) throw invalid('MessageDeduplicationId can be at most 128 characters');
    const first = this.firstAccepted.get(id);
    if (first && at - first.at < FIFO_DEDUPLICATION_MS) return { MessageId: first.messageId };
    const answer = this.deliver(input, at);
    this.firstAccepted.set(id, { at, messageId: answer.MessageId });
    return answer;
  }

  /** A stand-in for SNSClient: `send(new PublishCommand(...))`. */
  readonly client = {
    send: async (command: { constructor: { name: string }; input: Parameters<MemorySnsTopic['publish']>[0] }) => {
      if (command.constructor.name !== 'PublishCommand')
        throw invalid(`in-memory SNS: no operation ${command.constructor.name}`);
      return this.publish(command.input);
    },
  };

  private deliver(input: Parameters<MemorySnsTopic['publish']>[0], at: number): { MessageId: string } {
    const messageId = `sns-${++this.published}`;
    this.delivered.push({
      messageId,
      message: input.Message!,
      at,
      ...(input.Subject ? { subject: input.Subject } : {}),
      ...(input.MessageGroupId ? { group: input.MessageGroupId } : {}),
      ...(input.MessageDeduplicationId ? { deduplicationId: input.MessageDeduplicationId } : {}),
    });
    return { MessageId: messageId };
  }
}
