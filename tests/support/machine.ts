/** Runs the real ASL against a fake world, the way the intake would start it. */
import { runStateMachine, type LocalRunOptions, type LocalRunResult } from '../../runtime/state-machine';

type Json = Parameters<typeof runStateMachine>[0];
import { STARTUP_LEASE_SECONDS } from '../../domain/runs/protocol';
import type { FakeWorld } from './fakes';

export const EXECUTION_ARN = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:run-1';

export async function arrive(
  world: FakeWorld,
  dataset: string,
  partitionKey: string,
  objectKey = `${partitionKey}/f.csv`,
  sequencer = '0A',
): Promise<void> {
  await world.arrivals.recordArrival({
    dataset,
    partitionKey,
    objectKey,
    sequencer,
    size: 10,
    arrivedAt: world.clock.now().toISOString(),
  });
}

/**
 * A failed expectation inside a step intercept becomes a failed step, and the ASL's Catch would turn it into an
 * ordinary failure path: the test could pass without its assertion. Such failures (jest assertion errors and
 * programming errors thrown by the intercept itself, not by the step it wraps, nor the faults it injects on
 * purpose) are recorded and thrown again once the run has ended.
 */
function guardIntercept(options: Partial<LocalRunOptions>): { options: Partial<LocalRunOptions>; check(): void } {
  const intercept = options.intercept;
  if (!intercept) return { options, check: () => {} };
  const failures: unknown[] = [];
  const fromSteps = new WeakSet<object>();
  const guarded: LocalRunOptions['intercept'] = async (stepId, input, stateName, invoke) => {
    const tracked = () =>
      invoke().catch((error: unknown) => {
        if (typeof error === 'object' && error !== null) fromSteps.add(error);
        throw error;
      });
    try {
      return await intercept(stepId, input, stateName, tracked);
    } catch (error) {
      if (isTestFailure(error) && !fromSteps.has(error as object)) failures.push(error);
      throw error;
    }
  };
  return {
    options: { ...options, intercept: guarded },
    check: () => {
      if (failures.length > 0) throw failures[0];
    },
  };
}

/** A jest expectation (it carries `matcherResult`), or a programming error in the test's own code. */
export function isTestFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ('matcherResult' in error) return true;
  return [TypeError, ReferenceError, RangeError, SyntaxError].some((kind) => error instanceof kind);
}

async function run(input: Json, options: LocalRunOptions): Promise<LocalRunResult> {
  const { options: guarded, check } = guardIntercept(options);
  const result = await runStateMachine(input, guarded as LocalRunOptions);
  check();
  return result;
}

/**
 * Runs an automatic run the way the intake starts one. Pass `expectStatus` unless the test asserts the outcome
 * itself: a run that ends otherwise fails the test with its error and cause.
 */
export async function runAutomatic(
  world: FakeWorld,
  dataset = 'orders',
  options: Partial<LocalRunOptions> & { expectStatus?: LocalRunResult['status'] } = {},
): Promise<LocalRunResult> {
  const { expectStatus, ...rest } = options;
  const executionArn = rest.executionArn ?? EXECUTION_ARN;
  await world.leases.acquire(dataset, executionArn, world.clock.now(), STARTUP_LEASE_SECONDS);
  const result = await run({ dataset, trigger: 'arrival' }, { deps: world.deps, ...rest, executionArn });
  assertStatus(result, expectStatus);
  return result;
}

export async function runManual(
  world: FakeWorld,
  input: Record<string, unknown>,
  options: Partial<LocalRunOptions> & { expectStatus?: LocalRunResult['status'] } = {},
): Promise<LocalRunResult> {
  const { expectStatus, ...rest } = options;
  const result = await run(input as Json, { deps: world.deps, executionArn: EXECUTION_ARN, ...rest });
  assertStatus(result, expectStatus);
  return result;
}

function assertStatus(result: LocalRunResult, expected: LocalRunResult['status'] | undefined): void {
  if (expected && result.status !== expected)
    throw new Error(
      `the run ended ${result.status}, expected ${expected}: ${result.error ?? ''} ${result.cause ?? ''}`,
    );
}

/** Names of top-level states entered, in order. */
export function statesEntered(result: LocalRunResult): string[] {
  return result.events
    .filter((e) => e.type === 'StateEntered' && e.index === undefined)
    .map((e) => e.state?.name ?? '');
}
