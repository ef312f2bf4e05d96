/** State "Check the job run". */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { checkJobRun } from '../domain/steps';
import type { CheckJobRunInput, JobRunState } from '../schemas/types.generated';

export const step = defineStep<CheckJobRunInput, JobRunState>({
  id: 'checkJobRun',
  input: 'CheckJobRunInput',
  output: 'JobRunState',
  run: checkJobRun,
});
export const handler = lambdaHandler(step, awsDeps);
