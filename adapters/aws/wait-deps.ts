/**
 * AWS wiring of the wait ports, built on first use, once per container. Environment (set by the stack once the
 * wait functions are deployed): SLUICE_TABLE_NAME (the existing state table), SLUICE_RECHECK_QUEUE_URL.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfigError } from '../../domain/common';
import type { WaitDeps } from '../../domain/waits';
import { DynamoWaitStore } from './dynamo-waits';
import { SqsRecheckQueue } from './recheck-queue';
import { SfnTaskTokens } from './task-tokens';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

let cached: WaitDeps | undefined;

export function awsWaitDeps(): WaitDeps {
  if (cached) return cached;
  const region = process.env.AWS_REGION;
  cached = {
    waits: new DynamoWaitStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region })), env('SLUICE_TABLE_NAME')),
    tokens: new SfnTaskTokens(new SFNClient({ region })),
    rechecks: new SqsRecheckQueue(new SQSClient({ region }), env('SLUICE_RECHECK_QUEUE_URL')),
  };
  return cached;
}
