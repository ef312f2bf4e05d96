/** Target of the optional catch-up schedule: starts a run for every dataset that has pending arrivals. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { awsDeps } from '../adapters/aws/deps';
import { asLog, rootLogger } from '../adapters/lambda/step';
import { catchUpAll } from '../domain/runs';

export const handler = middy(async () =>
  catchUpAll(awsDeps(), asLog(rootLogger, { step: 'scheduleCatchUp' })),
).use(injectLambdaContext(rootLogger, { resetKeys: true }));
