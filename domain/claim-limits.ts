/**
 * How much one automatic run claims. The claim record is one DynamoDB item, and an item holds at most 400 KB
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items), names and
 * values included; the Distributed Map has no such limit. So a run claims at most `maxPartitions` pending
 * partitions (default 10,000) and at most `maxKeyBytes` of partition keys; the rest stays pending, and the run's
 * release step starts the follow-up that claims it.
 */
export const DEFAULT_MAX_CLAIM_PARTITIONS = 10_000;
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
