/**
 * Run lease rules shared by the intake, the state machine's first and last steps, and the self-healing handler.
 *
 * Write order that keeps every arrival reachable (see also adapters/aws/dynamo-state.ts):
 *   intake:   1. record the arrival           2. try to take the lease and start a run
 *   run end:  1. put back what the run neither processed nor named in its notification, forget its claim
 *             2. release the lease (by owner)  3. read pending arrivals; if any, try to take the lease and start a run
 * An arrival recorded before the ending run reads pending is seen by that run's step 3. One recorded after it was
 * recorded after the release, so its own intake step 2 finds the lease free. Either way some writer both sees the
 * arrival and finds the lease free; the conditional acquire makes sure only one of them starts a run. Step 3 runs
 * even when step 2 finds the lease already gone (a retry of the step, or an SDK retry of the applied delete).
 *
 * Claims: a run claims only while it holds the lease, and a claim is returned to pending only by a lease holder
 * (runs.returnClaimsOfOthers), so a partition is never claimed by two working runs nor returned twice.
 */
import type { ExecutionInput } from '../schemas/types.generated';
import type { Deps, Log, PendingSummary } from './ports';

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

/** What taking the lease and starting a run came to. */
export interface RunStart {
  /** The lease was taken (for `startedExecution`, or briefly, when nothing turned out to need a run). */
  acquired: boolean;
  startedExecution: string | null;
}

export interface EnsureRunOptions {
  /** An execution known to be dead (its status-change event says so): its lease may be taken at once. */
  replacing?: string;
  /** Start only if the pending arrivals pass this test (a failed run's own arrivals wait for the next one). */
  startIf?: (pending: PendingSummary) => boolean;
}

/**
 * Only the lease holder returns claims, so no run can claim a partition while it is being returned, and two
 * returners (a redelivered status event, a retried takeover) can never both re-open it. Every claim not held
 * by the lease holder itself belongs to a run that no longer works: a live run holds the lease until its last
 * step has forgotten its claim.
 */
export async function returnClaimsOfOthers(
  dataset: string,
  holder: string,
  deps: Pick<Deps, 'arrivals'>,
  log: Log,
): Promise<string[]> {
  const returned: string[] = [];
  for (const owner of await deps.arrivals.claimOwners(dataset)) {
    if (owner === holder) continue;
    const partitions = await deps.arrivals.returnClaim(dataset, owner);
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
 * Makes sure one execution is active for the dataset: takes the lease for a new, named execution, returns the
 * claims of runs that no longer work, and starts the execution if anything is pending.
 */
export async function startRunIfNeeded(
  dataset: string,
  trigger: 'arrival' | 'follow-up' | 'schedule',
  deps: Pick<Deps, 'clock' | 'leases' | 'executions' | 'arrivals'>,
  log: Log,
  options: EnsureRunOptions = {},
): Promise<RunStart> {
  const now = deps.clock.now();
  const name = executionNameFor(dataset, now, trigger);
  const arn = deps.executions.executionArnFor(name);
  if (!(await deps.leases.acquire(dataset, arn, now, STARTUP_LEASE_SECONDS, options.replacing))) {
    log.debug('a run is already active; it will pick the arrival up', { trigger });
    return { acquired: false, startedExecution: null };
  }
  const startupExpiry = new Date(now.getTime() + STARTUP_LEASE_SECONDS * 1000);
  try {
    await returnClaimsOfOthers(dataset, arn, deps, log);
    const pending = await deps.arrivals.pendingSummary(dataset);
    if (!pending || (options.startIf && !options.startIf(pending))) {
      await deps.leases.release(dataset, arn, startupExpiry);
      return { acquired: true, startedExecution: null };
    }
    const input: ExecutionInput = { dataset, trigger };
    await deps.executions.startExecution(name, input);
  } catch (error) {
    // Give the start-up lease back so the retry of this event (or the next arrival, or the catch-up) can start
    // the run; if even that fails, it frees itself within STARTUP_LEASE_SECONDS. Only while it is still the
    // start-up lease: a StartExecution that timed out may have started the execution, whose first step has
    // then made it its run lease, and that must not be taken from a working run.
    await deps.leases.release(dataset, arn, startupExpiry).catch(() => false);
    throw error;
  }
  log.info('started a run', { startedExecution: arn, trigger });
  return { acquired: true, startedExecution: arn };
}

/** Returns the new execution's ARN, or null when another execution holds the lease or nothing is pending. */
export async function ensureRunActive(
  dataset: string,
  trigger: 'arrival' | 'follow-up' | 'schedule',
  deps: Pick<Deps, 'clock' | 'leases' | 'executions' | 'arrivals'>,
  log: Log,
  options: EnsureRunOptions = {},
): Promise<string | null> {
  return (await startRunIfNeeded(dataset, trigger, deps, log, options)).startedExecution;
}

/** After a failed run: restart at once only for arrivals that came after it started (no failure loop). */
export const arrivedSince =
  (since: string | number | undefined) =>
  (pending: PendingSummary): boolean =>
    since === undefined || Date.parse(pending.lastArrivalAt) >= new Date(since).getTime();

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
  deps: Pick<Deps, 'clock' | 'leases' | 'executions' | 'arrivals'>,
  log: Log,
): Promise<{ released: boolean; followUp: string | null }> {
  const { executionArn, status, input, startDate } = event.detail ?? {};
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
  // FAILED also ends every run that went through its own failure path (notified, claim dealt with): restarting
  // for its own arrivals would repeat the failure in a loop, so those wait for the next arrival or the catch-up.
  const startIf = status === 'FAILED' ? arrivedSince(startDate ?? undefined) : undefined;
  const outcome = await startRunIfNeeded(dataset, 'follow-up', deps, log, { replacing: executionArn, startIf });
  if (outcome.acquired) log.warn('freed the lease of a dead execution', { executionArn, status, dataset });
  return { released: outcome.acquired, followUp: outcome.startedExecution };
}

/** Claims whose owner does not hold a live lease: their runs died, and only a new lease holder returns them. */
async function hasOrphanedClaims(dataset: string, deps: Pick<Deps, 'clock' | 'leases' | 'arrivals'>) {
  const owners = await deps.arrivals.claimOwners(dataset);
  if (owners.length === 0) return false;
  const lease = await deps.leases.current(dataset);
  const liveOwner = lease && Date.parse(lease.expiresAt) >= deps.clock.now().getTime() ? lease.owner : undefined;
  return owners.some((owner) => owner !== liveOwner);
}

/**
 * The catch-up schedule: any dataset with pending arrivals, or with the claim of a run that died unseen, and no
 * active run gets one. It is what bounds the wait when an event was lost (a status-change event, a crash of the
 * intake between taking the start-up lease and StartExecution, a failed run's own arrivals).
 */
export async function catchUpAll(
  deps: Pick<Deps, 'config' | 'clock' | 'leases' | 'executions' | 'arrivals'>,
  log: Log,
): Promise<Record<string, string | null>> {
  const started: Record<string, string | null> = {};
  for (const dataset of deps.config.datasets) {
    const needed =
      (await deps.arrivals.pendingSummary(dataset.name)) !== null || (await hasOrphanedClaims(dataset.name, deps));
    started[dataset.name] = needed ? await ensureRunActive(dataset.name, 'schedule', deps, log) : null;
  }
  return started;
}
