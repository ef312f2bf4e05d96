/**
 * Target of the EventBridge rule on the raw bucket's "Object Created" events. Rejected events (foreign keys,
 * bad layout, folder markers, zero-byte objects) are logged with their reason and counted, not retried.
 * Store or StartExecution failures throw: EventBridge/Lambda retry, then the dead-letter queue keeps the event.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { awsDeps } from '../adapters/aws/deps';
import { asLog, publishMetrics, rootLogger } from '../adapters/lambda/step';
import { acceptObjectCreated, type IntakeOutcome } from '../domain/intake';
import { arrivalMetrics } from '../domain/metrics';

export const handler = middy(async (event: unknown): Promise<IntakeOutcome> => {
  const log = asLog(rootLogger, { step: 'onArrival' });
  const deps = awsDeps();
  const outcome = await acceptObjectCreated(event, deps, log);
  publishMetrics(arrivalMetrics(outcome), deps.config.stage);
  if (outcome.status === 'rejected')
    log.warn('arrival rejected', { reason: outcome.reason, key: outcome.key, metric: 'RejectedArrivals' });
  else log.info('arrival recorded', { ...outcome });
  return outcome;
}).use(injectLambdaContext(rootLogger, { resetKeys: true }));
