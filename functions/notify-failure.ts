/** State "Publish the failure notification". */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { notifyFailure } from '../domain/steps/notify';
import type { NotifyFailureInput, NotifyFailureOutput } from '../schemas/types.generated';

export const step = defineStep<NotifyFailureInput, NotifyFailureOutput>({
  id: 'notifyFailure',
  input: 'NotifyFailureInput',
  output: 'NotifyFailureOutput',
  run: notifyFailure,
});
export const handler = lambdaHandler(step, awsDeps);
