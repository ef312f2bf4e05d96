/** State "Release the run lease". */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { releaseLease } from '../domain/steps';
import type { ReleaseLeaseInput, ReleaseLeaseOutput } from '../schemas/types.generated';

export const step = defineStep<ReleaseLeaseInput, ReleaseLeaseOutput>({
  id: 'releaseLease',
  input: 'ReleaseLeaseInput',
  output: 'ReleaseLeaseOutput',
  run: releaseLease,
});
export const handler = lambdaHandler(step, awsDeps);
