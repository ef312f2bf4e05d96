/**
 * Run lease rules shared by the intake, the state machine's first and last steps, and the self-healing handler.
 *
 * Write order that keeps every arrival reachable (see also adapters/aws/dynamo-*.ts):
 *   intake:   1. record the arrival           2. try to take the lease and start a run
 *   run end:  1. release the lease (by owner)  2. read pending arrivals; if any, try to take the lease and start a run
 * An arrival recorded before the ending run reads pending is seen by that run's step 2. One recorded after it was
 * recorded after the release, so its own intake step 2 finds the lease free. Either way some writer both sees the
 * arrival and finds the lease free; the conditional acquire makes sure only one of them starts a run.
 */
import type { ExecutionInput } from '../schemas/types.generated';
import type { Deps, Log } from './ports';

/** The state machine's own timeout (the ASL's TimeoutSeconds; a test keeps them equal). */
export const RUN_TIMEOUT_SECONDS = 172_800;
/** A running execution's lease outlives the machine timeout by a margin, so an abandoned lease frees itself. */
export const RUN_LEASE_SECONDS = RUN_TIMEOUT_SECONDS + 900;
/** Between taking the lease and the execution's first step; if StartExecution never happened, it frees itself soon. */
export const STARTUP_LEASE_SECONDS = 600;

export function executionNameFor(dataset: string, now: Date, trigger: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 17);
  const random = Math.random().toString(36).slice(2, 8);
  // Execution names: up to 80 chars of [A-Za-z0-9-_].
  return `${dataset.replace(/_/g, '-').slice(0, 40)}-${trigger.slice(0, 9)}-${stamp}-${random}`;
}

/**
 * Makes sure one execution is active for the dataset: takes the lease for a new, named execution and starts it.
 * Returns the new execution's ARN, or null when another execution already holds the lease.
 */
export async function ensureRunActive(
  dataset: string,
  trigger: 'arrival' | 'follow-up' | 'schedule',
  deps: Pick<Deps, 'clock' | 'leases' | 'executions'>,
  log: Log,
): Promise<string | null> {
  const now = deps.clock.now();
  const name = executionNameFor(dataset, now, trigger);
  const arn = deps.executions.executionArnFor(name);
  if (!(await deps.leases.acquire(dataset, arn, now, STARTUP_LEASE_SECONDS))) {
    log.debug('a run is already active; it will pick the arrival up', { trigger });
    return null;
  }
  const input: ExecutionInput = { dataset, trigger };
  try {
    await deps.executions.startExecution(name, input);
  } catch (error) {
    // Give the lease back so the retry of this event (or the next arrival) can start the run.
    await deps.leases.release(dataset, arn);
    throw error;
  }
  log.info('started a run', { startedExecution: arn, trigger });
  return arn;
}
