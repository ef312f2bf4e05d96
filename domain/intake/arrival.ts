/**
 * Arrival intake: one S3 "Object Created" event in, the arrival recorded, and one run per dataset made active.
 * A malformed or foreign event is rejected with a reason (logged and counted by the caller), never thrown:
 * retrying it could not help. Failures of the store or of StartExecution do throw, so the event is retried
 * and, after that, kept in the dead-letter queue.
 */
import type { S3ObjectCreatedEvent } from '../../schemas/types.generated';
import { resolveEventKey } from './object-keys';
import { partitionKey } from '../config';
import type { Deps } from '../deps';
import { type Log, describeErrors, validatorFor } from '../common';
import { ensureRunActive } from '../runs';

export type IntakeOutcome =
  | { status: 'rejected'; reason: string; key?: string }
  | {
      status: 'accepted' | 'duplicate';
      dataset: string;
      partition: string;
      key: string;
      startedExecution: string | null;
    };

export async function acceptObjectCreated(
  event: unknown,
  deps: Pick<Deps, 'config' | 'clock' | 'arrivals' | 'leases' | 'executions' | 'objects'>,
  log: Log,
): Promise<IntakeOutcome> {
  const check = validatorFor('S3ObjectCreatedEvent');
  if (!check(event))
    return { status: 'rejected', reason: `not an S3 Object Created event: ${describeErrors(check.errors)}` };
  const e = event as S3ObjectCreatedEvent;
  if (e.detail.bucket.name !== deps.config.lake.rawBucket)
    return {
      status: 'rejected',
      reason: `bucket '${e.detail.bucket.name}' is not the raw bucket '${deps.config.lake.rawBucket}'`,
    };
  // The key as delivered or its URL-decoded form, whichever the object has (domain/intake/object-keys.ts says why).
  const delivered = e.detail.object.key;
  if (e.detail.object.size === 0 && !delivered.endsWith('/'))
    return { status: 'rejected', reason: 'zero-byte object holds no rows', key: delivered };
  const resolved = await resolveEventKey(deps.config, e.detail.bucket.name, delivered, deps.objects);
  if (!resolved.ok) return { status: 'rejected', reason: resolved.reason, key: resolved.key };
  const { key, parsed } = resolved;
  const partition = partitionKey(parsed.dataset, parsed.partition);
  const { duplicate } = await deps.arrivals.recordArrival({
    dataset: parsed.dataset.name,
    partitionKey: partition,
    objectKey: key,
    sequencer: e.detail.object.sequencer,
    size: e.detail.object.size,
    arrivedAt: e.time,
  });
  // A duplicate still makes sure of a run while its arrival is pending: the first delivery may have crashed
  // after recording and before starting one. Once claimed (nothing pending), a duplicate adds no run.
  const needsRun = !duplicate || (await deps.arrivals.pendingSummary(parsed.dataset.name)) !== null;
  const startedExecution = needsRun ? await ensureRunActive(parsed.dataset.name, 'arrival', deps, log) : null;
  return {
    status: duplicate ? 'duplicate' : 'accepted',
    dataset: parsed.dataset.name,
    partition,
    key,
    startedExecution,
  };
}
