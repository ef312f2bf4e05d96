/** State "Validate the run request". */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { prepareRun } from '../domain/steps';
import type { PrepareRunInput, PrepareRunOutput } from '../schemas/types.generated';

export const step = defineStep<PrepareRunInput, PrepareRunOutput>({
  id: 'prepareRun',
  input: 'PrepareRunInput',
  output: 'PrepareRunOutput',
  run: prepareRun,
});
export const handler = lambdaHandler(step, awsDeps);
