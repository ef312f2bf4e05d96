/**
 * State "Wait for the Athena registration" (issue 13, not yet in the ASL): a `lambda:invoke.waitForTaskToken` Task hands this step its
 * token; it records the token, checks once, and returns. The Task ends on SendTaskSuccess/Failure.
 */
import { awsDeps } from '../adapters/aws/deps';
import { awsWaitDeps } from '../adapters/aws/wait-deps';
import { defineWaitStep, waitLambdaHandler } from '../adapters/lambda/wait-handler';
import { awaitPartitionRefresh } from '../domain/waits';
import type { AwaitOutput, AwaitPartitionRefreshInput } from '../schemas/types.generated';

export const step = defineWaitStep<AwaitPartitionRefreshInput, AwaitOutput>({
  id: 'awaitPartitionRefresh',
  input: 'AwaitPartitionRefreshInput',
  output: 'AwaitOutput',
  run: awaitPartitionRefresh,
});
export const handler = waitLambdaHandler(step, awsDeps, awsWaitDeps);
