/** State "Check the crawler". */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { checkCrawler } from '../domain/steps';
import type { CheckCrawlerInput, CrawlState } from '../schemas/types.generated';

export const step = defineStep<CheckCrawlerInput, CrawlState>({
  id: 'checkCrawler',
  input: 'CheckCrawlerInput',
  output: 'CrawlState',
  run: checkCrawler,
});
export const handler = lambdaHandler(step, awsDeps);
