/**
 * Consumer of the re-check queue (issue 13): the fallback poll, outside the state machine, so a lost event costs
 * a Lambda call per fallback interval and no state transition. SQS batch with ReportBatchItemFailures: a failed
 * message is retried alone, then goes to the queue's DLQ.
 */
import { awsDeps } from '../adapters/aws/deps';
import { awsWaitDeps } from '../adapters/aws/wait-deps';
import { defineWaitStep, invokeWaitStep } from '../adapters/lambda/wait-handler';
import { recheckWait } from '../domain/waits';
import type { CompletionReport, RecheckWaitMessage } from '../schemas/types.generated';

export const step = defineWaitStep<RecheckWaitMessage, CompletionReport>({
  id: 'recheckWait',
  input: 'RecheckWaitMessage',
  output: 'CompletionReport',
  run: recheckWait,
});

/** The parts of Lambda's SQS event and partial-batch response this handler uses (no @types/aws-lambda here). */
interface SqsEvent {
  Records: Array<{ messageId: string; body: string }>;
}
interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

export async function handler(event: SqsEvent): Promise<SqsBatchResponse> {
  const batchItemFailures: SqsBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      await invokeWaitStep(step, JSON.parse(record.body) as unknown, awsDeps(), awsWaitDeps());
    } catch {
      // Logged by invokeWaitStep; retried alone, and after maxReceiveCount kept in the DLQ with its body.
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
