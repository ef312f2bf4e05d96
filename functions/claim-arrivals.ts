/** State "Claim the settled arrivals". */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { claimArrivals } from '../domain/steps';
import type { ClaimArrivalsInput, ClaimArrivalsOutput } from '../schemas/types.generated';

export const step = defineStep<ClaimArrivalsInput, ClaimArrivalsOutput>({
  id: 'claimArrivals',
  input: 'ClaimArrivalsInput',
  output: 'ClaimArrivalsOutput',
  run: claimArrivals,
});
export const handler = lambdaHandler(step, awsDeps);
