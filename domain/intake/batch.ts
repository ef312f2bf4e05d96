/**
 * The batched intake (issue 12): EventBridge delivers S3 "Object Created" events to an SQS queue, and one Lambda
 * invocation takes a batch of them. Per partition it writes one transaction per chunk of at most 98 objects: their
 * event markers (each only if new), one aggregated pending update and the dataset's arrival counter, all or
 * nothing (docs/protocol.md). Then at most one lease attempt per dataset (none when a consistent read shows a
 * live run lease: its holder will see these arrivals before it gives the lease back).
 *
 * A marker and its partition's pending update are never apart: a record whose transaction failed recorded
 * nothing and records itself on redelivery; one whose marker exists recorded everything and adds nothing (so a
 * redelivered or concurrently delivered event can never re-open a partition a run has claimed). A record whose
 * write failed is reported in `batchItemFailures`
 * (ReportBatchItemFailures: only it comes back, https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html);
 * a record that cannot be an event at all is poison and goes to the dead-letter queue with its reason.
 */
import pLimit from 'p-limit';
import type { S3ObjectCreatedEvent } from '../../schemas/types.generated';
import { resolveEventKey } from './object-keys';
import { partitionKey } from '../config';
import type { Deps } from '../deps';
import { type Log, type ObjectStorePort, describeErrors, validatorFor } from '../common';
import { ensureRunActive, type Arrival } from '../runs';

/** The parts of an SQS record the intake reads (Lambda's SQS event). */
export interface SqsRecord {
  messageId: string;
  body: string;
  attributes?: { ApproximateReceiveCount?: string };
}

export interface SqsBatch {
  Records: SqsRecord[];
}

/** ReportBatchItemFailures' answer: the records to retry. */
export interface BatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/** One object event as the batch records it: the single-record ledger's Arrival, one definition for both. */
export type ObjectEvent = Arrival;

/** The batch side of the debounce store, over the same items as the single-record ledger. */
export interface ArrivalBatchStore {
  /** Ids (`eventId`) of these object events that were recorded before (a consistent read). */
  recordedEvents(events: readonly ObjectEvent[]): Promise<Set<string>>;
  /**
   * Records up to RECORD_CHUNK events of one partition, all or nothing per attempt: the markers of the new ones,
   * one pending update counting them, and the dataset's arrival counter. Events whose marker exists (another
   * delivery recorded them) come back as duplicates and add nothing.
   */
  recordEvents(
    dataset: string,
    partitionKey: string,
    events: readonly ObjectEvent[],
    at: Date,
  ): Promise<{ recorded: ObjectEvent[]; duplicates: ObjectEvent[] }>;
}

/** Events per recording transaction: 98 markers + the pending update + the counter = 100 actions. */
export const RECORD_CHUNK = 98;

/** Where poison records go, with their reason (the intake queue's dead-letter queue). */
export interface PoisonSink {
  send(records: Array<{ messageId: string; body: string; reason: string }>): Promise<void>;
}

export type BatchDeps = Pick<Deps, 'config' | 'clock' | 'arrivals' | 'leases' | 'executions'> & {
  batches: ArrivalBatchStore;
  poison: PoisonSink;
  objects?: ObjectStorePort;
};

export interface BatchOptions {
  /**
   * Milliseconds left before the invocation's deadline (Lambda's `context.getRemainingTimeInMillis`). Absent: no
   * deadline (the local queue). Key resolution stops `RESOLVE_RESERVE_MS` before it, so the writes still fit.
   */
  remainingMs?: () => number;
}

/**
 * Ambiguous keys resolved at once (one HeadObject each, issue 23 item 5). A 1,000-record batch of encoded keys took
 * 1,000 serial round trips (~20-30 ms each: most of the intake's 30 s timeout); 16 at a time is ~2 s, and stays far
 * below S3's 5,500 GET/HEAD per second per prefix
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html).
 */
export const RESOLVE_CONCURRENCY = 16;
/**
 * Time kept back from the deadline for what follows the key resolution (the recording transactions and the lease
 * attempt). Records still unresolved then are reported as batch item failures: they come back alone, none is lost.
 */
export const RESOLVE_RESERVE_MS = 10_000;

export const eventId = (e: Pick<ObjectEvent, 'objectKey' | 'sequencer'>): string => `${e.objectKey}\n${e.sequencer}`;

export type RecordOutcome =
  | { messageId: string; status: 'poison' | 'rejected'; reason: string; key?: string }
  | { messageId: string; status: 'accepted' | 'duplicate'; event: ObjectEvent }
  /** `recorded`: this delivery recorded the event (counted as accepted) before a later step failed. */
  | { messageId: string; status: 'failed'; reason: string; event?: ObjectEvent; recorded?: true };

export interface BatchOutcome extends BatchResponse {
  records: RecordOutcome[];
  startedExecutions: string[];
}

type Parsed = { ok: true; event: ObjectEvent } | { ok: false; poison: boolean; reason: string; key?: string };

/** One record's body to an object event, or why not: poison (not an event at all) or rejected (not data). */
export async function parseRecord(body: string, deps: Pick<BatchDeps, 'config' | 'objects'>): Promise<Parsed> {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    return { ok: false, poison: true, reason: 'message body is not JSON' };
  }
  const check = validatorFor('S3ObjectCreatedEvent');
  if (!check(document))
    return { ok: false, poison: true, reason: `not an S3 Object Created event: ${describeErrors(check.errors)}` };
  const e = document as S3ObjectCreatedEvent;
  if (e.detail.bucket.name !== deps.config.lake.rawBucket)
    return {
      ok: false,
      poison: false,
      reason: `bucket '${e.detail.bucket.name}' is not the raw bucket '${deps.config.lake.rawBucket}'`,
    };
  const delivered = e.detail.object.key;
  if (e.detail.object.size === 0 && !delivered.endsWith('/'))
    return { ok: false, poison: false, reason: 'zero-byte object holds no rows', key: delivered };
  const resolved = await resolveEventKey(deps.config, e.detail.bucket.name, delivered, deps.objects);
  if (!resolved.ok) return { ok: false, poison: false, reason: resolved.reason, key: resolved.key };
  return {
    ok: true,
    event: {
      dataset: resolved.parsed.dataset.name,
      partitionKey: partitionKey(resolved.parsed.dataset, resolved.parsed.partition),
      objectKey: resolved.key,
      sequencer: e.detail.object.sequencer,
      size: e.detail.object.size,
      arrivedAt: e.time,
    },
  };
}

const LATE = Symbol('late');

/**
 * Every record parsed, at most RESOLVE_CONCURRENCY at once, in the batch's order. Past the resolution deadline no
 * record starts, and those in flight are given up on (LATE): reported as failures, retried by SQS.
 */
async function parseAll(
  records: readonly SqsRecord[],
  deps: BatchDeps,
  options: BatchOptions,
): Promise<Array<{ record: SqsRecord; result: Parsed | Error | typeof LATE }>> {
  const results: Array<Parsed | Error | typeof LATE> = records.map(() => LATE);
  const budget = options.remainingMs ? options.remainingMs() - RESOLVE_RESERVE_MS : Infinity;
  const endsAt = Date.now() + budget;
  const limit = pLimit(RESOLVE_CONCURRENCY);
  const all = Promise.all(
    records.map((record, i) =>
      limit(async () => {
        if (Date.now() >= endsAt) return;
        try {
          const result = await parseRecord(record.body, deps);
          if (Date.now() < endsAt) results[i] = result;
        } catch (error) {
          results[i] = error instanceof Error ? error : new Error(String(error));
        }
      }),
    ),
  );
  if (budget === Infinity) await all;
  else {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, budget))));
    await Promise.race([all, deadline]);
    clearTimeout(timer);
    limit.clearQueue();
  }
  // A copy: parses still in flight after the deadline must not change what is reported.
  return records.map((record, i) => ({ record, result: results[i]! }));
}

const message = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** Takes in one SQS batch; never throws for one record's failure (that record is reported instead). */
export async function acceptBatch(
  batch: SqsBatch,
  deps: BatchDeps,
  log: Log,
  options: BatchOptions = {},
): Promise<BatchOutcome> {
  const outcomes = new Map<string, RecordOutcome>();
  const fail = (messageId: string, reason: string, event?: ObjectEvent) =>
    outcomes.set(
      messageId,
      event ? { messageId, status: 'failed', reason, event } : { messageId, status: 'failed', reason },
    );

  // 1. Parse; poison to the dead-letter queue with its reason, rejected keys logged by the caller.
  const parsed: Array<{ record: SqsRecord; event: ObjectEvent }> = [];
  const poison: Array<{ messageId: string; body: string; reason: string }> = [];
  for (const { record, result } of await parseAll(batch.Records, deps, options)) {
    try {
      if (result instanceof Error) throw result;
      if (result === LATE) {
        fail(record.messageId, `its key was not resolved before the invocation's deadline; retried`);
        continue;
      }
      if (result.ok) parsed.push({ record, event: result.event });
      else if (result.poison) poison.push({ messageId: record.messageId, body: record.body, reason: result.reason });
      else
        outcomes.set(record.messageId, {
          messageId: record.messageId,
          status: 'rejected',
          reason: result.reason,
          ...(result.key !== undefined ? { key: result.key } : {}),
        });
    } catch (error) {
      fail(record.messageId, message(error)); // e.g. HeadObject throttled: retry this record alone
    }
  }
  if (poison.length > 0) {
    try {
      await deps.poison.send(poison);
      for (const p of poison) outcomes.set(p.messageId, { messageId: p.messageId, status: 'poison', reason: p.reason });
    } catch (error) {
      // Retried; after maxReceiveCount the queue's redrive policy moves it to the same dead-letter queue.
      for (const p of poison)
        fail(p.messageId, `${p.reason}; and sending it to the dead-letter queue failed: ${message(error)}`);
    }
  }

  // 2. One event per object: the batch may hold the same event twice (at-least-once delivery).
  const firstOf = new Map<string, { record: SqsRecord; event: ObjectEvent }>();
  const repeats: Array<{ record: SqsRecord; event: ObjectEvent }> = [];
  for (const item of parsed) {
    if (firstOf.has(eventId(item.event))) repeats.push(item);
    else firstOf.set(eventId(item.event), item);
  }
  const unique = [...firstOf.values()];

  // 3. What was recorded before (consistent reads, no writes).
  let seen: Set<string>;
  try {
    seen = await deps.batches.recordedEvents(unique.map((u) => u.event));
  } catch (error) {
    for (const item of parsed) fail(item.record.messageId, message(error), item.event);
    return finish(batch, outcomes, []);
  }
  const fresh = unique.filter((u) => !seen.has(eventId(u.event)));
  for (const u of unique)
    if (seen.has(eventId(u.event)))
      outcomes.set(u.record.messageId, { messageId: u.record.messageId, status: 'duplicate', event: u.event });

  // 4. Per partition, one transaction per chunk: markers + aggregated pending update + the arrival counter. All
  // transactions of a dataset touch its counter, so they go one after another (concurrent ones would conflict).
  const now = deps.clock.now();
  const byPartition = new Map<string, Array<{ record: SqsRecord; event: ObjectEvent }>>();
  for (const u of fresh) {
    const key = `${u.event.dataset}\n${u.event.partitionKey}`;
    byPartition.set(key, [...(byPartition.get(key) ?? []), u]);
  }
  for (const items of byPartition.values()) {
    const first = items[0]!.event;
    for (let i = 0; i < items.length; i += RECORD_CHUNK) {
      const chunk = items.slice(i, i + RECORD_CHUNK);
      try {
        const { duplicates } = await deps.batches.recordEvents(
          first.dataset,
          first.partitionKey,
          chunk.map((u) => u.event),
          now,
        );
        const dup = new Set(duplicates.map(eventId));
        for (const u of chunk)
          outcomes.set(u.record.messageId, {
            messageId: u.record.messageId,
            status: dup.has(eventId(u.event)) ? 'duplicate' : 'accepted',
            event: u.event,
          });
      } catch (error) {
        for (const u of chunk) fail(u.record.messageId, message(error), u.event);
      }
    }
  }
  for (const r of repeats) {
    const first = outcomes.get(firstOf.get(eventId(r.event))!.record.messageId);
    outcomes.set(
      r.record.messageId,
      first?.status === 'failed'
        ? { ...first, messageId: r.record.messageId }
        : { messageId: r.record.messageId, status: 'duplicate', event: r.event },
    );
  }

  // 6. At most one lease attempt per dataset, after all of its records; none while a live lease is seen.
  const started: string[] = [];
  const datasets = new Map<string, { accepted: boolean; messageIds: string[] }>();
  for (const o of outcomes.values()) {
    if (o.status !== 'accepted' && o.status !== 'duplicate') continue;
    const entry = datasets.get(o.event.dataset) ?? { accepted: false, messageIds: [] };
    entry.accepted ||= o.status === 'accepted';
    entry.messageIds.push(o.messageId);
    datasets.set(o.event.dataset, entry);
  }
  for (const [dataset, entry] of datasets) {
    try {
      // Only duplicates: a run is still needed while their arrivals are pending (a first delivery may have
      // crashed between recording and starting); once claimed, duplicates add nothing.
      if (!entry.accepted && (await deps.arrivals.pendingSummary(dataset)) === null) continue;
      const lease = await deps.leases.current(dataset);
      if (lease && !lease.starting && Date.parse(lease.expiresAt) > now.getTime()) {
        // Its holder gives the lease back only if the arrival counter is what it read before it last read pending;
        // our transactions bumped it, so it sees them (docs/protocol.md, I1). A start-up lease is not enough: its
        // StartExecution may never have been made, so ensureRunActive re-issues it.
        log.debug('a live run holds the lease; it will pick the arrivals up', { dataset, owner: lease.owner });
        continue;
      }
      const arn = await ensureRunActive(dataset, 'arrival', deps, log);
      if (arn) started.push(arn);
    } catch (error) {
      // Redelivered, these records are duplicates whose arrivals are pending: they ask for the run again.
      for (const messageId of entry.messageIds) {
        const o = outcomes.get(messageId);
        fail(messageId, message(error), o && 'event' in o ? o.event : undefined);
        // Recorded by this delivery: still counted as accepted once (the redelivery will find it a duplicate).
        const failed = outcomes.get(messageId);
        if (o?.status === 'accepted' && failed?.status === 'failed') failed.recorded = true;
      }
    }
  }
  return finish(batch, outcomes, started);
}

function finish(batch: SqsBatch, outcomes: Map<string, RecordOutcome>, started: string[]): BatchOutcome {
  const records = batch.Records.map(
    (r) => outcomes.get(r.messageId) ?? { messageId: r.messageId, status: 'failed' as const, reason: 'not handled' },
  );
  return {
    records,
    startedExecutions: started,
    batchItemFailures: records.filter((r) => r.status === 'failed').map((r) => ({ itemIdentifier: r.messageId })),
  };
}
