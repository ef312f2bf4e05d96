/** State "Classify the crawled table" (issue 24): the raw table the crawler wrote, against the mapping and the fingerprints. */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { checkCrawledSchema } from '../domain/steps';
import type { CheckCrawledSchemaInput, CrawledSchemaCheck } from '../schemas/types.generated';

export const step = defineStep<CheckCrawledSchemaInput, CrawledSchemaCheck>({
  id: 'checkCrawledSchema',
  input: 'CheckCrawledSchemaInput',
  output: 'CrawledSchemaCheck',
  run: checkCrawledSchema,
});
export const handler = lambdaHandler(step, awsDeps);
