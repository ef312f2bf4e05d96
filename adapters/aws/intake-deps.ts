/** AWS wiring of the batched intake: the step deps plus the batch store and the intake dead-letter queue. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfigError } from '../../domain/common';
import type { BatchDeps } from '../../domain/intake';
import { awsDeps } from './deps';
import { DynamoArrivalBatches } from './dynamo-arrival-batches';
import { SqsPoisonSink } from './poison-sink';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

let cached: BatchDeps | undefined;

export function intakeDeps(): BatchDeps {
  if (cached) return cached;
  const deps = awsDeps();
  const region = process.env.AWS_REGION ?? deps.config.region;
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region }));
  cached = {
    config: deps.config,
    clock: deps.clock,
    get arrivals() {
      return deps.arrivals;
    },
    get leases() {
      return deps.leases;
    },
    get executions() {
      return deps.executions;
    },
    get objects() {
      return deps.objects;
    },
    batches: new DynamoArrivalBatches(doc, env('SLUICE_TABLE_NAME')),
    poison: new SqsPoisonSink(new SQSClient({ region }), env('SLUICE_INTAKE_DLQ_URL')),
  };
  return cached;
}
