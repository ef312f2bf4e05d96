/** State "Check the Athena registration". */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { checkPartitionRefresh } from '../domain/steps';
import type { CheckPartitionRefreshInput, RefreshState } from '../schemas/types.generated';

export const step = defineStep<CheckPartitionRefreshInput, RefreshState>({
  id: 'checkPartitionRefresh',
  input: 'CheckPartitionRefreshInput',
  output: 'RefreshState',
  run: checkPartitionRefresh,
});
export const handler = lambdaHandler(step, awsDeps);
