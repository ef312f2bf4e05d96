/** State "Start the crawler". */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { startCrawler } from '../domain/steps';
import type { StartCrawlerInput, CrawlState } from '../schemas/types.generated';

export const step = defineStep<StartCrawlerInput, CrawlState>({
  id: 'startCrawler',
  input: 'StartCrawlerInput',
  output: 'CrawlState',
  run: startCrawler,
});
export const handler = lambdaHandler(step, awsDeps);
