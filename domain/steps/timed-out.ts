/**
 * Issue 23, item 3: an execution that ends TIMED_OUT (the ASL's TimeoutSeconds; "States.Timeout ... no Catch of
 * the execution can handle": https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-common-fields.html)
 * reaches only the status-change handler. Returning its whole claim and starting a follow-up at once (what
 * FAILED and ABORTED do, domain/runs/protocol.ts) makes the follow-up claim the same oldest partitions, which time out
 * again: about $211 of Glue per 48-hour cycle for `orders` in dev, with nothing queryable. Instead:
 *
 * 1. Take the dead run's lease for a back-off holder (`<execution>#timed-out`), live for TIMED_OUT_BACKOFF_SECONDS
 *    and not a start-up lease. Meanwhile the intake defers to it (a live run lease: "the holder will see the
 *    arrivals"), the catch-up finds it live and starts nothing; when it expires, the catch-up's ensureRunActive
 *    takes it as for any expired lease (docs/protocol.md). Only this back-off delays the follow-up: nothing is
 *    dropped, pending stays pending.
 * 2. Register what was converted before the time-out: a partition of the claim whose job summary exists (the
 *    summary is written after the partition's output, at a path fixed by execution and partition: jobRunKey,
 *    jobSummaryLocation; docs/batches.md) gets its ALTER TABLE ADD IF NOT EXISTS, in waves (domain/steps/athena.ts).
 * 3. Return the claim to pending except those partitions (they are processed), as the lease holder.
 * 4. Notify once per timed-out execution: only the delivery that took the lease over from the dead execution
 *    publishes; a duplicate event finds the lease with the back-off holder already and publishes nothing.
 *
 * Everything is idempotent, so a retried event (EventBridge -> Lambda async retries) finishes the work: the lease
 * is re-taken by the same holder, the DDL has the same ClientRequestTokens, returnClaim resumes.
 */
import { datasetNamed, partitionKey } from '../config';
import { jobSummaryLocation } from '../rows';
import type { Deps } from '../deps';
import { type Log, runArtifacts } from '../common';
import { artifactsOf } from '../inputs';
import { checkPartitionRefresh, startPartitionRefresh } from './athena';
import { jobRunKey } from './jobs';
import type { PartitionValues, RefreshState } from '../../schemas/types.generated';

/** How long a timed-out dataset waits before the catch-up may start its follow-up. */
export const TIMED_OUT_BACKOFF_SECONDS = 6 * 3600;

export const backoffHolder = (executionArn: string): string => `${executionArn}#timed-out`;

export interface TimedOutOutcome {
  handled: boolean;
  registered: number;
  returned: number;
  notified: boolean;
}

/** How the registration waits between checks here (outside the state machine); replaced in tests. */
export const timedOutWaits = {
  sleep: (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms)),
  pollMs: 2_000,
};

/** The claim's partitions whose job summary exists: converted before the time-out. */
export async function convertedPartitions(
  dataset: string,
  executionArn: string,
  deps: Pick<Deps, 'config' | 'artifacts'>,
): Promise<{ claimed: PartitionValues[]; converted: PartitionValues[] }> {
  const store = artifactsOf(deps);
  const list = runArtifacts(store.bucket, executionArn).partitionList;
  const text = await store.get(list);
  if (text === null) return { claimed: [], converted: [] };
  const claimed = JSON.parse(text) as PartitionValues[];
  const resolved = datasetNamed(deps.config, dataset);
  const converted: PartitionValues[] = [];
  for (const partition of claimed) {
    const runKey = jobRunKey(executionArn, partitionKey(resolved, partition));
    if ((await store.get(jobSummaryLocation(store.bucket, dataset, runKey))) !== null) converted.push(partition);
  }
  return { claimed, converted };
}

/** Registers `partitions` now, wave by wave, waiting for each wave's queries here. */
async function registerNow(
  dataset: string,
  executionArn: string,
  partitions: PartitionValues[],
  deps: Deps,
  log: Log,
): Promise<void> {
  // Its own token space: the timed-out run's own registration (if it got that far) used the execution ARN.
  const owner = backoffHolder(executionArn);
  let refresh: RefreshState = await startPartitionRefresh({ dataset, executionArn: owner, partitions }, deps, log);
  while (!refresh.done) {
    await timedOutWaits.sleep(timedOutWaits.pollMs);
    refresh = await checkPartitionRefresh({ dataset, executionArn: owner, refresh }, deps, log);
    if (!refresh.done && refresh.waveDone)
      refresh = await startPartitionRefresh({ dataset, executionArn: owner, partitions, refresh }, deps, log);
  }
}

function timedOutMessage(dataset: string, executionArn: string, registered: number, returned: number, deps: Deps) {
  const hours = TIMED_OUT_BACKOFF_SECONDS / 3600;
  return {
    subject: `sluice: ${dataset} run timed out`.slice(0, 100),
    message: [
      `The run ${executionArn} of ${dataset} ended TIMED_OUT (the execution's time limit).`,
      `${registered} partitions converted before the time-out were registered; ${returned} went back to pending.`,
      `The next run of ${dataset} starts after a back-off of ${hours} h (the catch-up schedule starts it).`,
      `A run that keeps timing out claims more than it can finish: lower debounce.maxClaimPartitions, or split manual ranges.`,
      `Console: ${deps.consoleUrl(executionArn)}`,
    ].join('\n'),
    attributes: { dataset, executionArn, status: 'TIMED_OUT' },
    // One message per timed-out execution on the FIFO run-failure topic (issue 21, I6): a duplicate status-change
    // event or a retry after a publish SNS accepted delivers nothing new within the deduplication window.
    deduplicationId: `${executionArn}#timed-out`,
    group: dataset,
  };
}

export async function handleTimedOut(
  dataset: string,
  executionArn: string,
  deps: Deps,
  log: Log,
): Promise<TimedOutOutcome> {
  const holder = backoffHolder(executionArn);
  const before = await deps.leases.current(dataset);
  const takingOver = before?.owner === executionArn;
  const now = deps.clock.now();
  if (!(await deps.leases.acquire(dataset, holder, now, TIMED_OUT_BACKOFF_SECONDS, executionArn))) {
    log.info('the lease of the timed-out run is with someone else; nothing to do', { executionArn });
    return { handled: false, registered: 0, returned: 0, notified: false };
  }
  const { converted } = await convertedPartitions(dataset, executionArn, deps);
  if (converted.length > 0) await registerNow(dataset, executionArn, converted, deps, log);
  const resolved = datasetNamed(deps.config, dataset);
  const keep = converted.map((p) => partitionKey(resolved, p));
  const returned = await deps.arrivals.returnClaim(dataset, executionArn, keep, { holder });
  log.warn('a run timed out: converted partitions registered, the rest pending after a back-off', {
    executionArn,
    registered: converted.length,
    returned: returned.length,
    backoffSeconds: TIMED_OUT_BACKOFF_SECONDS,
  });
  // Notify once: only the delivery that found the dead execution's own lease (a duplicate finds the holder's).
  if (takingOver)
    await deps.notifier.publish(timedOutMessage(dataset, executionArn, converted.length, returned.length, deps));
  return { handled: true, registered: converted.length, returned: returned.length, notified: takingOver };
}
