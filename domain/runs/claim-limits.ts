import { DEFAULT_MAX_CLAIM_PARTITIONS } from '../config';
import {
  modelPlan,
  planJobBatches,
  type BatchPlanOptions,
  type SizedPartition,
  RUN_COST_MODEL,
  type RunCostModel,
} from '../cost';

/**
 * How much one automatic run claims. The claim record is one DynamoDB item, and an item holds at most 400 KB
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items), names and
 * values included; the Distributed Map has no such limit. So a run claims at most `maxPartitions` pending
 * partitions (default 10,000) and at most `maxKeyBytes` of partition keys; the rest stays pending, and the run's
 * release step starts the follow-up that claims it. The default count is config's DEFAULT_MAX_CLAIM_PARTITIONS.
 */
/** Room for the keys in one item, leaving 50 KB of the 400 KB for the item's other attributes and overhead. */
export const MAX_CLAIM_KEY_BYTES = 350_000;
/** What a string-set element costs besides its UTF-8 bytes (a generous allowance; DynamoDB counts the bytes). */
const PER_KEY_OVERHEAD = 3;

export interface ClaimLimits {
  maxPartitions: number;
  maxKeyBytes: number;
}

export const defaultClaimLimits = (maxPartitions = DEFAULT_MAX_CLAIM_PARTITIONS): ClaimLimits => ({
  maxPartitions,
  maxKeyBytes: MAX_CLAIM_KEY_BYTES,
});

/**
 * The pending partitions this run takes: oldest first (by first arrival, then key), so a partition cannot be
 * passed over forever by newer ones; within both limits. Never empty when something is pending.
 */
export function selectClaimable<P extends { key: string; firstAt: number }>(
  pending: readonly P[],
  limits: ClaimLimits,
): P[] {
  const ordered = [...pending].sort((a, b) => a.firstAt - b.firstAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const taken: P[] = [];
  let bytes = 0;
  for (const p of ordered) {
    if (taken.length >= limits.maxPartitions) break;
    const cost = Buffer.byteLength(p.key, 'utf8') + PER_KEY_OVERHEAD;
    if (taken.length > 0 && bytes + cost > limits.maxKeyBytes) break;
    taken.push(p);
    bytes += cost;
  }
  return taken;
}

/**
 * The time budget of one execution (issue 23): half the state machine's 48 h TimeoutSeconds, so a run slower than
 * the model by up to twice still ends inside it, registered and released, instead of TIMED_OUT.
 */
export function timeBudgetSeconds(model: RunCostModel = RUN_COST_MODEL): number {
  return model.executionTimeoutSeconds / 2;
}

/** The modelled wall time of running these partitions the way the plan step would (domain/cost/job-batches.ts). */
export function modelledWallSeconds(
  partitions: readonly SizedPartition[],
  options: BatchPlanOptions,
  model: RunCostModel = RUN_COST_MODEL,
): number {
  return modelPlan(planJobBatches(partitions, options, model), options, model).wallSeconds;
}

/**
 * How many of the partitions, taken in order, the model says one execution converts within its time budget: all
 * of them, or the longest prefix that fits (never none: a single partition over the budget still runs alone, as
 * the job's own timeout bounds it). A binary search over the prefix length, each step one plan.
 */
export function partitionsWithinTimeBudget(
  partitions: readonly SizedPartition[],
  options: BatchPlanOptions,
  budgetSeconds: number = timeBudgetSeconds(),
  model: RunCostModel = RUN_COST_MODEL,
): number {
  const fits = (k: number) => modelledWallSeconds(partitions.slice(0, k), options, model) <= budgetSeconds;
  if (partitions.length === 0 || fits(partitions.length)) return partitions.length;
  let lo = 1; // fits, or the one partition that runs alone anyway
  let hi = partitions.length; // does not fit
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
