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
  deps: Pick<Deps, 'clock' | 'leases' | 'executions' | 'arrivals'>,
  log: Log,
): Promise<string | null> {
  const now = deps.clock.now();
  const name = executionNameFor(dataset, now, trigger);
  const arn = deps.executions.executionArnFor(name);
  const previous = await deps.leases.current(dataset);
  if (!(await deps.leases.acquire(dataset, arn, now, STARTUP_LEASE_SECONDS))) {
    log.debug('a run is already active; it will pick the arrival up', { trigger });
    return null;
  }
  if (previous && previous.owner !== arn) {
    // We took over an expired lease: its owner died without its status-change event. Whatever it had
    // claimed goes back to pending, so this run processes it.
    const returned = await deps.arrivals.returnClaim(dataset, previous.owner);
    if (returned.length > 0)
      log.warn('took over an expired lease and its claim', {
        previousOwner: previous.owner,
        partitions: returned.length,
      });
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

export interface ExecutionStatusChange {
  detail?: { executionArn?: string; status?: string; input?: string | null };
}

const DEAD = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * Self-healing: an execution that died without reaching its own release step (aborted in the console, timed
 * out, failed in the runtime) holds the lease; its Step Functions status-change event frees it and starts a
 * run for whatever is pending. The event is best effort, so the lease also expires on its own.
 */
export async function releaseLeaseOfDeadExecution(
  event: ExecutionStatusChange,
  deps: Pick<Deps, 'clock' | 'leases' | 'executions' | 'arrivals'>,
  log: Log,
): Promise<{ released: boolean; followUp: string | null }> {
  const { executionArn, status, input } = event.detail ?? {};
  if (!executionArn || !status || !DEAD.has(status)) return { released: false, followUp: null };
  let dataset: unknown;
  try {
    dataset = (JSON.parse(input ?? '{}') as { dataset?: unknown }).dataset;
  } catch {
    dataset = undefined;
  }
  if (typeof dataset !== 'string') {
    log.warn('status change without a dataset in its input; nothing to release', { executionArn, status });
    return { released: false, followUp: null };
  }
  // Its claimed partitions were neither processed nor notified: put them back before freeing the lease.
  const returned = await deps.arrivals.returnClaim(dataset, executionArn);
  const released = await deps.leases.release(dataset, executionArn);
  if (!released) return { released: false, followUp: null };
  if (returned.length > 0)
    log.warn('returned the claim of a dead execution to pending', { partitions: returned.length });
  log.warn('released the lease of a dead execution', { executionArn, status, dataset });
  const pending = await deps.arrivals.pendingSummary(dataset);
  return { released: true, followUp: pending ? await ensureRunActive(dataset, 'follow-up', deps, log) : null };
}

/** The catch-up schedule: any dataset with pending arrivals and no active run gets one. */
export async function catchUpAll(
  deps: Pick<Deps, 'config' | 'clock' | 'leases' | 'executions' | 'arrivals'>,
  log: Log,
): Promise<Record<string, string | null>> {
  const started: Record<string, string | null> = {};
  for (const dataset of deps.config.datasets) {
    started[dataset.name] = (await deps.arrivals.pendingSummary(dataset.name))
      ? await ensureRunActive(dataset.name, 'schedule', deps, log)
      : null;
  }
  return started;
}
