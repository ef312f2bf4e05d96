/** State "Summarize the partition runs": reads the Distributed Map's ResultWriter manifest (issue 12). */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { summarizeRun } from '../domain/steps';
import type { MapRunSummary, SummarizeMapRunInput } from '../schemas/types.generated';

export const step = defineStep<SummarizeMapRunInput, MapRunSummary>({
  id: 'summarizeJobRuns',
  input: 'SummarizeMapRunInput',
  output: 'MapRunSummary',
  run: summarizeRun,
});
export const handler = lambdaHandler(step, awsDeps);
