/** State "Plan the job runs": the run's partitions cut into Glue job runs, written as batch files (issue 23). */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { planJobRuns } from '../domain/steps';
import type { PlanJobRunsInput, PlanJobRunsOutput } from '../schemas/types.generated';

export const step = defineStep<PlanJobRunsInput, PlanJobRunsOutput>({
  id: 'planJobRuns',
  input: 'PlanJobRunsInput',
  output: 'PlanJobRunsOutput',
  run: planJobRuns,
});
export const handler = lambdaHandler(step, awsDeps);
