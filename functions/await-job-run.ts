/**
 * State "Wait for the job run" (issue 13, not yet in the ASL): a `lambda:invoke.waitForTaskToken` Task hands this step its
 * token; it records the token, checks once, and returns. The Task ends on SendTaskSuccess/Failure.
 */
import { awsDeps } from '../adapters/aws/deps';
import { awsWaitDeps } from '../adapters/aws/wait-deps';
import { defineWaitStep, waitLambdaHandler } from '../adapters/lambda/wait-handler';
import { awaitJobRun } from '../domain/waits';
import type { AwaitOutput, AwaitJobRunInput } from '../schemas/types.generated';

export const step = defineWaitStep<AwaitJobRunInput, AwaitOutput>({
  id: 'awaitJobRun',
  input: 'AwaitJobRunInput',
  output: 'AwaitOutput',
  run: awaitJobRun,
});
export const handler = waitLambdaHandler(step, awsDeps, awsWaitDeps);
