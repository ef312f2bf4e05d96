/**
 * Run lease rules shared by the intake, the state machine's first and last steps, the status-change handler and
 * the catch-up. docs/protocol.md states the protocol, its invariants I1-I6 and why they hold; in short:
 *
 * - An arrival is recorded in one transaction with the dataset's arrival counter (adapters/aws/dynamo-state.ts).
 * - Whoever wants a run takes the lease (a start-up lease that names the execution and its input) and starts the
 *   execution. Whoever finds a start-up lease re-issues that same StartExecution: Step Functions makes it
 *   idempotent (same name and input while open: success), so a starter that died between the two steps strands
 *   nothing.
 * - A lease is given back only when nothing is pending, and only if the arrival counter still has the value read
 *   before pending was read: an arrival recorded after that read makes the give-back fail and the giver look
 *   again. So an intake that defers to a lease holder (the holder will see its arrival) is never left behind.
 * - A run's last step hands its lease on (acquire replacing itself) to a follow-up, which gives it back by the
 *   same rule. No "arrived since" times: what is pending when the lease is given back is started.
 * - Only the lease holder claims or returns claims, and each of those writes checks the lease in its transaction.
 */
import type { ExecutionInput } from '../../schemas/types.generated';
import { AwsThrottledError, type Log } from '../common';
import { executionNameFor } from '../config';
import type { RunDeps } from './ports';

/** The state machine's own timeout (the ASL's TimeoutSeconds; a test keeps them equal). */
export const RUN_TIMEOUT_SECONDS = 172_800;
/** A running execution's lease outlives the machine timeout by a margin, so an abandoned lease frees itself. */
export const RUN_LEASE_SECONDS = RUN_TIMEOUT_SECONDS + 900;
/** Between taking the lease and the execution's first step; if StartExecution never happened, it frees itself soon. */
export const STARTUP_LEASE_SECONDS = 600;

/** What taking the lease and starting a run came to. */
export interface RunStart {
  /** The lease was taken (for `startedExecution`, or briefly, when nothing turned out to need a run). */
  acquired: boolean;
  startedExecution: string | null;
}

export interface EnsureRunOptions {
  /** An execution known to be dead (its status-change event says so), or the caller handing its own lease on. */
  replacing?: string;
}

type LeaseDeps = Omit<RunDeps, 'config'>;

/**
 * Only the lease holder returns claims (each chunk checks it), so no run can claim a partition while it is being
 * returned, and two returners can never both re-open it. Every claim not held by the lease holder itself belongs
 * to a run that no longer works: a live run holds the lease until its last step has dealt with its claim.
 */
export async function returnClaimsOfOthers(
  dataset: string,
  holder: string,
  deps: Pick<RunDeps, 'arrivals'>,
  log: Log,
): Promise<string[]> {
  const returned: string[] = [];
  for (const owner of await deps.arrivals.claimOwners(dataset)) {
    if (owner === holder) continue;
    const partitions = await deps.arrivals.returnClaim(dataset, owner, [], { holder });
    if (partitions.length > 0)
      log.warn('returned the claim of a run that no longer works to pending', {
        previousOwner: owner,
        partitions: partitions.length,
      });
    returned.push(...partitions);
  }
  return returned;
}

/**
 * A start-up lease held by someone else: its StartExecution may never have been made (the starter died, or its
 * call failed). Making the same call again is safe: "Executions with the same name and input are considered
 * idempotent" (StartExecution; ExecutionAlreadyExists: https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
 */
async function redriveStart(dataset: string, deps: LeaseDeps, log: Log): Promise<void> {
  const lease = await deps.leases.current(dataset);
  if (!lease?.starting) {
    log.debug('a run is already active; it will pick the arrival up', { owner: lease?.owner });
    return;
  }
  await deps.executions.startExecution(lease.starting.name, lease.starting.input);
  log.info('made sure the starting run was started', { startedExecution: lease.owner });
}

/**
 * Makes sure one execution is active for the dataset: takes a start-up lease for a new, named execution, returns
 * the claims of runs that no longer work, and starts the execution if anything is pending; if nothing is, gives
 * the lease back unless an arrival came meanwhile (then looks again).
 */
export async function startRunIfNeeded(
  dataset: string,
  trigger: 'arrival' | 'follow-up' | 'schedule',
  deps: LeaseDeps,
  log: Log,
  options: EnsureRunOptions = {},
): Promise<RunStart> {
  const now = deps.clock.now();
  const name = executionNameFor(dataset, now, trigger);
  const arn = deps.executions.executionArnFor(name);
  const input: ExecutionInput = { dataset, trigger };
  if (!(await deps.leases.acquire(dataset, arn, now, STARTUP_LEASE_SECONDS, options.replacing, { name, input }))) {
    await redriveStart(dataset, deps, log);
    return { acquired: false, startedExecution: null };
  }
  const startupExpiry = new Date(now.getTime() + STARTUP_LEASE_SECONDS * 1000);
  // An error from here on leaves the start-up lease in place: the caller's retry (or anyone else) finds it and
  // re-issues this StartExecution, and the execution's first step returns what this call could not.
  await returnClaimsOfOthers(dataset, arn, deps, log);
  for (;;) {
    const lease = await deps.leases.current(dataset);
    // Taken over after expiring, or already the run lease of this very execution (someone re-issued its start):
    // either way not ours to give back any more.
    if (lease?.owner !== arn || !lease.starting) return { acquired: true, startedExecution: null };
    if ((await deps.arrivals.pendingSummary(dataset)) !== null) break;
    // The counter was read before pending: a give-back that succeeds saw every arrival recorded before it.
    if (await deps.leases.release(dataset, arn, startupExpiry, lease.arrivals ?? 0))
      return { acquired: true, startedExecution: null };
  }
  await deps.executions.startExecution(name, input);
  log.info('started a run', { startedExecution: arn, trigger });
  return { acquired: true, startedExecution: arn };
}

/** Returns the new execution's ARN, or null when another execution holds the lease or nothing is pending. */
export async function ensureRunActive(
  dataset: string,
  trigger: 'arrival' | 'follow-up' | 'schedule',
  deps: LeaseDeps,
  log: Log,
  options: EnsureRunOptions = {},
): Promise<string | null> {
  return (await startRunIfNeeded(dataset, trigger, deps, log, options)).startedExecution;
}

export interface ExecutionStatusChange {
  detail?: { executionArn?: string; status?: string; input?: string | null; startDate?: number | null };
}

const DEAD = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * Self-healing: an execution that died without reaching its own release step (aborted in the console, timed
 * out, failed in the runtime) holds the lease; its Step Functions status-change event hands the lease to a new
 * run, returns the dead run's claim, and starts that run if anything is pending. The event is best effort and
 * may come twice: a lost one is covered by the lease's expiry and the catch-up schedule, a second one finds the
 * lease with someone else and changes nothing.
 * Event shape (detail.executionArn, status, input, startDate in epoch ms):
 * https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html and
 * https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-states.html
 */
export async function releaseLeaseOfDeadExecution(
  event: ExecutionStatusChange,
  deps: LeaseDeps,
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
  // A run that went through its own failure path has handed its lease on already: then this changes nothing.
  // What is pending now was neither processed nor named in a notification, so it gets a run.
  const outcome = await startRunIfNeeded(dataset, 'follow-up', deps, log, { replacing: executionArn });
  if (outcome.acquired) log.warn('freed the lease of a dead execution', { executionArn, status, dataset });
  return { released: outcome.acquired, followUp: outcome.startedExecution };
}

/**
 * Whether the dataset needs the catch-up: arrivals pending, a start-up lease (its StartExecution may never have
 * been made), or claims whose owner does not hold a live lease (their runs died; a new lease holder returns them).
 */
async function needsCatchUp(dataset: string, deps: LeaseDeps): Promise<boolean> {
  if ((await deps.arrivals.pendingSummary(dataset)) !== null) return true;
  const lease = await deps.leases.current(dataset);
  if (lease?.starting) return true;
  const owners = await deps.arrivals.claimOwners(dataset);
  if (owners.length === 0) return false;
  const liveOwner = lease && Date.parse(lease.expiresAt) >= deps.clock.now().getTime() ? lease.owner : undefined;
  return owners.some((owner) => owner !== liveOwner);
}

/**
 * The catch-up schedule: any dataset with pending arrivals, or with the claim of a run that died unseen, and no
 * active run gets one. It is what bounds the wait when an event was lost (a status-change event, a crash of the
 * intake between taking the start-up lease and StartExecution, a failed run's own arrivals).
 */
export async function catchUpAll(deps: RunDeps, log: Log): Promise<Record<string, string | null>> {
  const started: Record<string, string | null> = {};
  const failed: string[] = [];
  for (const dataset of deps.config.datasets) {
    try {
      started[dataset.name] = (await needsCatchUp(dataset.name, deps))
        ? await ensureRunActive(dataset.name, 'schedule', deps, log)
        : null;
    } catch (error) {
      // One dataset's trouble (a huge orphan claim that takes several calls, a throttle) never stops the others.
      started[dataset.name] = null;
      failed.push(dataset.name);
      log.error('catch-up failed for a dataset; the others go on', { dataset: dataset.name, error: String(error) });
    }
  }
  // Reported after every dataset had its turn, so the schedule's failure metrics see it; the next run retries.
  if (failed.length > 0)
    throw new AwsThrottledError(`catch-up failed for ${failed.join(', ')}; the other datasets were caught up`);
  return started;
}
