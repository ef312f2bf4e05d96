/** State "Register the new partitions in Athena". */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { startPartitionRefresh } from '../domain/steps';
import type { StartPartitionRefreshInput, RefreshState } from '../schemas/types.generated';

export const step = defineStep<StartPartitionRefreshInput, RefreshState>({
  id: 'startPartitionRefresh',
  input: 'StartPartitionRefreshInput',
  output: 'RefreshState',
  run: startPartitionRefresh,
});
export const handler = lambdaHandler(step, awsDeps);
