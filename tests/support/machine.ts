/** Runs the real ASL against a fake world, the way the intake would start it. */
import { runStateMachine, type LocalRunOptions, type LocalRunResult } from '../../adapters/local/state-machine';
import { STARTUP_LEASE_SECONDS } from '../../domain/runs';
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

export async function runAutomatic(
  world: FakeWorld,
  dataset = 'orders',
  options: Partial<LocalRunOptions> = {},
): Promise<LocalRunResult> {
  const executionArn = options.executionArn ?? EXECUTION_ARN;
  await world.leases.acquire(dataset, executionArn, world.clock.now(), STARTUP_LEASE_SECONDS);
  return runStateMachine({ dataset, trigger: 'arrival' }, { deps: world.deps, executionArn, ...options });
}

export async function runManual(
  world: FakeWorld,
  input: Record<string, unknown>,
  options: Partial<LocalRunOptions> = {},
): Promise<LocalRunResult> {
  return runStateMachine(input as never, { deps: world.deps, executionArn: EXECUTION_ARN, ...options });
}

/** Names of top-level states entered, in order. */
export function statesEntered(result: LocalRunResult): string[] {
  return result.events
    .filter((e) => e.type === 'StateEntered' && e.index === undefined)
    .map((e) => e.state?.name ?? '');
}
