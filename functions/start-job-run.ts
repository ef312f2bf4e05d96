/** State "Start the job run". */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { startJobRun } from '../domain/steps';
import type { StartJobRunInput, JobRunState } from '../schemas/types.generated';

export const step = defineStep<StartJobRunInput, JobRunState>({
  id: 'startJobRun',
  input: 'StartJobRunInput',
  output: 'JobRunState',
  run: startJobRun,
});
export const handler = lambdaHandler(step, awsDeps);
