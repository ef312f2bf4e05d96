import type {
  ClaimArrivalsInput,
  ClaimArrivalsOutput,
  ExecutionInput,
  PartitionValues,
  PrepareRunInput,
  PrepareRunOutput,
  ReleaseLeaseInput,
  ReleaseLeaseOutput,
} from '../../schemas/types.generated';
import { datasetNamed } from '../config';
import { decideSettled } from '../debounce';
import { InvalidPartitionError, LeaseHeldError } from '../errors';
import { assertPartition, partitionFromKey, partitionKey } from '../partitions';
import type { Deps, Log } from '../ports';
import { ensureRunActive, RUN_LEASE_SECONDS } from '../runs';
import { validate } from '../validation';

/** First step: validates the execution input (automatic or manual) and, for automatic runs, holds the lease. */
export async function prepareRun(input: PrepareRunInput, deps: Deps, log: Log): Promise<PrepareRunOutput> {
  const request = validate<ExecutionInput>('ExecutionInput', structuredClone(input.request), 'execution input');
  const dataset = datasetNamed(deps.config, request.dataset);
  const base = {
    dataset: dataset.name,
    stage: deps.config.stage,
    executionArn: input.executionArn,
    maxConcurrency: Math.min(dataset.fanOut.maxConcurrency, dataset.job.maxConcurrentRuns),
  };
  if ('partitions' in request) {
    const seen = new Map<string, PartitionValues>();
    request.partitions.forEach((p, i) => {
      try {
        const valid = assertPartition(dataset, p);
        seen.set(partitionKey(dataset, valid), valid);
      } catch (error) {
        throw new InvalidPartitionError(`execution input /partitions/${i}: ${(error as Error).message}`);
      }
    });
    log.info('manual run', { partitions: seen.size, skipCrawler: request.skipCrawler ?? false });
    return {
      run: { ...base, mode: 'manual', skipCrawler: request.skipCrawler ?? false },
      debounce: {
        settled: true,
        waitSeconds: 0,
        partitions: [],
        partitionCount: 0,
        claimedAt: deps.clock.now().toISOString(),
      },
      partitions: [...seen.values()],
    };
  }
  // The intake took a short start-up lease in our name; extend it to the run's lifetime. A run started by hand
  // with an automatic input takes the lease here, unless another run is active.
  if (!(await deps.leases.acquire(dataset.name, input.executionArn, deps.clock.now(), RUN_LEASE_SECONDS))) {
    const holder = await deps.leases.current(dataset.name);
    throw new LeaseHeldError(`dataset '${dataset.name}' already has an active run: ${holder?.owner ?? 'unknown'}`);
  }
  log.info('automatic run', { trigger: request.trigger });
  return {
    run: { ...base, mode: 'automatic', trigger: request.trigger, skipCrawler: false },
    debounce: {
      settled: false,
      waitSeconds: dataset.debounce.quietSeconds,
      partitions: [],
      partitionCount: 0,
      claimedAt: deps.clock.now().toISOString(),
    },
  };
}

/** Debounce step: "not settled yet, wait N s", or the settled set of partitions, claimed atomically. */
export async function claimArrivals(input: ClaimArrivalsInput, deps: Deps, log: Log): Promise<ClaimArrivalsOutput> {
  const dataset = datasetNamed(deps.config, input.dataset);
  const now = deps.clock.now();
  const pending = await deps.arrivals.pendingSummary(dataset.name);
  if (!pending) {
    log.info('nothing pending');
    return { settled: true, waitSeconds: 0, partitions: [], partitionCount: 0, claimedAt: now.toISOString() };
  }
  const decision = decideSettled(pending, now, dataset.debounce);
  if (!decision.settled) {
    log.info('arrivals not settled yet', { waitSeconds: decision.waitSeconds, pendingPartitions: pending.partitions });
    return {
      settled: false,
      waitSeconds: decision.waitSeconds,
      partitions: [],
      partitionCount: 0,
      claimedAt: now.toISOString(),
    };
  }
  const keys = await deps.arrivals.claimPending(dataset.name, input.executionArn, now);
  const partitions = keys.map((key) => partitionFromKey(dataset, key));
  log.info('claimed settled arrivals', { partitions: partitions.length });
  return { settled: true, waitSeconds: 0, partitions, partitionCount: partitions.length, claimedAt: now.toISOString() };
}

/** Last step of every path: the owner releases the lease, then starts a follow-up if arrivals came meanwhile. */
export async function releaseLease(input: ReleaseLeaseInput, deps: Deps, log: Log): Promise<ReleaseLeaseOutput> {
  // The claim has been dealt with: processed, or named in this run's failure notification.
  await deps.arrivals.forgetClaim(input.dataset, input.executionArn);
  const released = await deps.leases.release(input.dataset, input.executionArn);
  if (!released) {
    log.info('lease not held by this execution (manual run, or already taken over); nothing to release');
    return { released: false };
  }
  const pending = await deps.arrivals.pendingSummary(input.dataset);
  if (!pending) return { released: true };
  if (input.outcome === 'failed' && Date.parse(pending.lastArrivalAt) < Date.parse(input.runStartedAt)) {
    // These arrivals were this failed run's own (its claim failed): the notification carries the re-run input.
    // Restarting at once would repeat the failure in a loop; the next arrival or the catch-up schedule retries.
    log.warn('arrivals from before this failed run stay pending', { pendingPartitions: pending.partitions });
    return { released: true };
  }
  const followUp = await ensureRunActive(input.dataset, 'follow-up', deps, log);
  return followUp ? { released: true, followUpExecutionArn: followUp } : { released: true };
}
