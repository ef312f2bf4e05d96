/** State "Summarize the partition runs". */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { summarizeJobRuns } from '../domain/steps/jobs';
import type { SummarizeJobRunsInput, JobRunSummary } from '../schemas/types.generated';

export const step = defineStep<SummarizeJobRunsInput, JobRunSummary>({
  id: 'summarizeJobRuns',
  input: 'SummarizeJobRunsInput',
  output: 'JobRunSummary',
  run: summarizeJobRuns,
});
export const handler = lambdaHandler(step, awsDeps);
