/** State "Publish the failure notification". */
import { awsDeps } from '../adapters/aws/deps';
import { defineStep, lambdaHandler } from '../adapters/lambda/step';
import { AwsRunCosts, defaultRunCostClients } from '../adapters/operate/run-cost';
import type { Deps } from '../domain/deps';
import { notifyFailure } from '../domain/steps';
import type { NotifyFailureInput, NotifyFailureOutput } from '../schemas/types.generated';

export const step = defineStep<NotifyFailureInput, NotifyFailureOutput>({
  id: 'notifyFailure',
  input: 'NotifyFailureInput',
  output: 'NotifyFailureOutput',
  run: notifyFailure,
});

let withCosts: Deps | undefined;

/** The stage's deps, plus the run's cost so far from AWS's figures (issue 23 item 6). */
function notifyDeps(): Deps {
  if (withCosts) return withCosts;
  const deps = awsDeps();
  const runCosts = new AwsRunCosts(defaultRunCostClients(process.env.AWS_REGION ?? deps.config.region), deps.config);
  // The deps' clients are made lazily by getters: inherited, not copied.
  withCosts = Object.create(deps, { runCosts: { value: runCosts, enumerable: true } }) as Deps;
  return withCosts;
}

export const handler = lambdaHandler(step, notifyDeps);
