/** State "Check the new files' schemas" (issue 24): fingerprints, drift against the mapping, the crawler decision. */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { checkSchemas } from '../domain/steps';
import type { CheckSchemasInput, SchemaDrift } from '../schemas/types.generated';

export const step = defineStep<CheckSchemasInput, SchemaDrift>({
  id: 'checkSchemas',
  input: 'CheckSchemasInput',
  output: 'SchemaDrift',
  run: checkSchemas,
});
export const handler = lambdaHandler(step, awsDeps);
