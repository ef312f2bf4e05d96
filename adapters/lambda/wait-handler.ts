/**
 * The thin-handler recipe of adapters/lambda/step.ts for the wait Lambdas, which need the wait ports as well:
 * validate input against schemas/waits.schema.json, run the pure core, validate the output.
 * `invokeWaitStep` is the same path without middy, for the local runner and the tests.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Deps } from '../../domain/deps';
import type { Log, SchemaName } from '../../domain/common';
import type { WaitDeps } from '../../domain/waits';
import { invokeStep, rootLogger } from './step';

export interface WaitStepDefinition<I, O> {
  /** Also the function's name in serverless.yml (once registered) and its `${<Id>FunctionArn}` placeholder. */
  id: string;
  input: SchemaName;
  output: SchemaName;
  run(input: I, deps: Deps, waitDeps: WaitDeps, log: Log): Promise<O>;
}

export function defineWaitStep<I, O>(step: WaitStepDefinition<I, O>): WaitStepDefinition<I, O> {
  return step;
}

/** The step recipe of ./step.ts (validate, run, validate, keyed logs), with the wait ports bound into `run`. */
export function invokeWaitStep<I, O>(
  step: WaitStepDefinition<I, O>,
  rawInput: unknown,
  deps: Deps,
  waitDeps: WaitDeps,
  logger: Logger = rootLogger,
): Promise<O> {
  // Never log the task token: it is a bearer credential for the Task (logKeys reads only dataset/partition/execution).
  return invokeStep<I, O>(
    { ...step, run: (input, d, log) => step.run(input, d, waitDeps, log) },
    rawInput,
    deps,
    logger,
  );
}

export function waitLambdaHandler<I, O>(step: WaitStepDefinition<I, O>, deps: () => Deps, waitDeps: () => WaitDeps) {
  return middy(async (event: unknown) => invokeWaitStep(step, event, deps(), waitDeps())).use(
    injectLambdaContext(rootLogger, { resetKeys: true }),
  );
}
