import type {
  AutomaticRunInput,
  ClaimArrivalsInput,
  ClaimArrivalsOutput,
  ExecutionInput,
  PrepareRunInput,
  PrepareRunOutput,
  ReleaseLeaseInput,
  ReleaseLeaseOutput,
} from '../../schemas/types.generated';
import { defaultClaimLimits, decideSettled, returnClaimsOfOthers, RUN_LEASE_SECONDS, startRunIfNeeded } from '../runs';
import { datasetNamed, partitionFromKey } from '../config';
import { LeaseHeldError, type Log } from '../common';
import type { Deps } from '../deps';
import { validateRunRequest } from '../inputs';
import { artifactsContext, partitionsDealtWith, prepareManualDebounce, writeClaimedList } from './summary';

/** First step: validates the execution input (automatic or manual) and holds the dataset's run lease. */
export async function prepareRun(input: PrepareRunInput, deps: Deps, log: Log): Promise<PrepareRunOutput> {
  const request = validateRunRequest(structuredClone(input.request));
  const dataset = datasetNamed(deps.config, request.dataset);
  const base = {
    dataset: dataset.name,
    stage: deps.config.stage,
    executionArn: input.executionArn,
    maxConcurrency: Math.min(dataset.fanOut.maxConcurrency, dataset.job.maxConcurrentRuns),
    ...artifactsContext(deps, input.executionArn),
  };
  // Issue 12: explicit partitions, a range or a manifest, validated and written as the Map's item list.
  const manual =
    'trigger' in request
      ? undefined
      : {
          debounce: await prepareManualDebounce(request, dataset, deps, input.executionArn),
          skipCrawler: request.skipCrawler ?? false,
          crawl: request.crawl === true,
        };
  // Every run takes part in the lease: one run per dataset, automatic or manual. The intake took a short
  // start-up lease in an automatic run's name; here it becomes the run's lifetime lease. A run started by hand
  // (manual input, or an automatic input) takes a free or expired lease, and is refused with LeaseHeldError
  // while another run is active: it ends failed at once, touching no data, and can be started again later.
  // Taken last, after every check that can fail, because a run that fails here has no run context to release it.
  await holdLease(dataset.name, input.executionArn, request, deps, log);
  if (manual) {
    log.info('manual run', { partitions: manual.debounce.items?.count, skipCrawler: manual.skipCrawler });
    const crawl = manual.crawl ? { crawl: true } : {}; // issue 24: a manual crawl: true runs the crawler
    return { run: { ...base, mode: 'manual', skipCrawler: manual.skipCrawler, ...crawl }, debounce: manual.debounce };
  }
  const { trigger } = request as AutomaticRunInput;
  log.info('automatic run', { trigger });
  return {
    run: { ...base, mode: 'automatic', trigger, skipCrawler: false },
    debounce: {
      settled: false,
      waitSeconds: dataset.debounce.quietSeconds,
      partitionCount: 0,
      claimedAt: deps.clock.now().toISOString(),
    },
  };
}

async function holdLease(dataset: string, executionArn: string, request: ExecutionInput, deps: Deps, log: Log) {
  if (!(await deps.leases.acquire(dataset, executionArn, deps.clock.now(), RUN_LEASE_SECONDS))) {
    const holder = await deps.leases.current(dataset);
    throw new LeaseHeldError(
      `dataset '${dataset}' already has an active run: ${holder?.owner ?? 'unknown'}. One run per dataset: ` +
        `start this one again once that run has ended, with the same input: ${JSON.stringify(request)}`,
    );
  }
  // Took over an expired lease (its owner died unseen): whatever that run had claimed goes back to pending. If this
  // fails, the lease stays with this execution: the step's retry takes it again (same owner), and if the
  // execution fails for good, its status-change event hands the lease on (releaseLeaseOfDeadExecution). Giving it
  // back here instead could strand an arrival that deferred to it meanwhile.
  await returnClaimsOfOthers(dataset, executionArn, deps, log);
}

/** Debounce step: "not settled yet, wait N s", or the settled set of partitions, claimed atomically. */
export async function claimArrivals(input: ClaimArrivalsInput, deps: Deps, log: Log): Promise<ClaimArrivalsOutput> {
  const dataset = datasetNamed(deps.config, input.dataset);
  const now = deps.clock.now();
  const pending = await deps.arrivals.pendingSummary(dataset.name);
  if (!pending) {
    log.info('nothing pending');
    return { settled: true, waitSeconds: 0, partitionCount: 0, claimedAt: now.toISOString() };
  }
  const decision = decideSettled(pending, now, dataset.debounce);
  if (!decision.settled) {
    log.info('arrivals not settled yet', { waitSeconds: decision.waitSeconds, pendingPartitions: pending.partitions });
    return {
      settled: false,
      waitSeconds: decision.waitSeconds,
      partitionCount: 0,
      claimedAt: now.toISOString(),
    };
  }
  // Issue 12: at most maxClaimPartitions (oldest first) per run; the rest stays pending for the follow-up run.
  const limits = defaultClaimLimits(dataset.debounce.maxClaimPartitions);
  const keys = await deps.arrivals.claimPending(dataset.name, input.executionArn, now, limits);
  const partitions = keys.map((key) => partitionFromKey(dataset, key));
  log.info('claimed settled arrivals', { partitions: partitions.length });
  // Issue 12: the claim record is the list's one place; the Map reads a snapshot of it, the state a reference.
  const claimed = {
    settled: true,
    waitSeconds: 0,
    partitionCount: partitions.length,
    ...(partitions.length > 0 ? { items: await writeClaimedList(deps, input.executionArn, partitions) } : {}),
  };
  // The arrival times feed the DebounceWait and LandingToQueryable metrics (domain/metrics/metrics.ts) at no extra call.
  return partitions.length > 0
    ? {
        ...claimed,
        claimedAt: now.toISOString(),
        firstArrivalAt: pending.firstArrivalAt,
        lastArrivalAt: pending.lastArrivalAt,
      }
    : { ...claimed, claimedAt: now.toISOString() };
}

/**
 * Partitions of the run's claim that need nothing more: processed (succeeded job runs), or named in the failure
 * notification's re-run input. Read defensively from the run state the ASL passes (the lists by reference,
 * domain/steps/summary.ts); without a state (an older definition), the whole claim counts as dealt with.
 */
async function dealtWith(input: ReleaseLeaseInput, deps: Deps): Promise<string[] | 'all'> {
  const state = input.state as RunStateForRelease | undefined;
  if (!state) return 'all';
  return partitionsDealtWith(state, datasetNamed(deps.config, input.dataset), deps);
}

interface RunStateForRelease {
  jobResults?: unknown;
  notification?: { report?: { rerunInput?: unknown } };
}

/**
 * Last step of every path. The run puts back what it claimed but neither processed nor named in its
 * notification, then hands its lease on to a follow-up (acquire replacing itself): the follow-up starts if
 * anything is pending and otherwise gives the lease back, unless an arrival came meanwhile (docs/protocol.md).
 * No "arrived since the run started" rule: whatever is pending was neither processed nor named in a notification,
 * so it needs a run, whether the run failed, was manual, or claimed only part of the pending set.
 * A retry of this step finds its claim dealt with and the lease handed on (then it re-issues the follow-up's
 * StartExecution if that may not have been made).
 */
export async function releaseLease(input: ReleaseLeaseInput, deps: Deps, log: Log): Promise<ReleaseLeaseOutput> {
  const keep = await dealtWith(input, deps);
  if (keep === 'all') await deps.arrivals.forgetClaim(input.dataset, input.executionArn);
  else {
    const back = await deps.arrivals.returnClaim(input.dataset, input.executionArn, keep);
    if (back.length > 0)
      log.warn('claimed partitions neither processed nor notified went back to pending', { partitions: back.length });
  }
  const next = await startRunIfNeeded(input.dataset, 'follow-up', deps, log, { replacing: input.executionArn });
  if (!next.acquired) log.info('lease not held by this execution (already handed on)');
  return next.startedExecution
    ? { released: next.acquired, followUpExecutionArn: next.startedExecution }
    : { released: next.acquired };
}
