/**
 * Target of the EventBridge rules on `Glue Job State Change`, `Glue Crawler State Change` and `Athena Query State
 * Change` (issue 13): finds the task tokens waiting on the event's subject, checks once, answers them.
 * Invoked asynchronously by EventBridge: a thrown (retryable) error is retried by Lambda, then lands in the
 * rule's DLQ; the fallback re-check still completes the wait.
 */
import { awsDeps } from '../adapters/aws/deps';
import { awsWaitDeps } from '../adapters/aws/wait-deps';
import { defineWaitStep, waitLambdaHandler } from '../adapters/lambda/wait-handler';
import { completeFromEvent } from '../domain/waits';
import type { CompletionReport, WaitStateChangeEvent } from '../schemas/types.generated';

export const step = defineWaitStep<WaitStateChangeEvent, CompletionReport>({
  id: 'completeWait',
  input: 'WaitStateChangeEvent',
  output: 'CompletionReport',
  run: completeFromEvent,
});
export const handler = waitLambdaHandler(step, awsDeps, awsWaitDeps);
