/** Run by hand after an outage: `sls invoke -f replayDeadLetters --stage <name>`. */
import { SQSClient } from '@aws-sdk/client-sqs';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { awsDeps } from '../adapters/aws/deps';
import { SqsDeadLetters } from '../adapters/aws/sqs';
import { asLog, rootLogger } from '../adapters/lambda/step';
import { replayDeadLetters } from '../domain/intake';
import { ConfigError } from '../domain/common';

export const handler = middy(async (event: { maxMessages?: number } | undefined) => {
  const queueUrl = process.env.SLUICE_DEAD_LETTER_QUEUE_URL;
  if (!queueUrl) throw new ConfigError('environment variable SLUICE_DEAD_LETTER_QUEUE_URL is not set');
  const log = asLog(rootLogger, { step: 'replayDeadLetters' });
  const result = await replayDeadLetters(
    awsDeps(),
    new SqsDeadLetters(new SQSClient({}), queueUrl),
    log,
    event?.maxMessages,
  );
  log.info('dead letters replayed', result);
  return result;
}).use(injectLambdaContext(rootLogger, { resetKeys: true }));
