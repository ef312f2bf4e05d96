/**
 * Consumer of the intake queue (EventBridge → SQS → this Lambda, with ReportBatchItemFailures and a batching
 * window). Poison goes to the dead-letter queue with its reason, rejected keys are logged with theirs, failed
 * records are reported so that only they come back.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { intakeDeps } from '../adapters/aws/intake-deps';
import { asLog, publishMetrics, rootLogger } from '../adapters/lambda/step';
import { acceptBatch, type BatchResponse, type RecordOutcome, type SqsBatch, arrivalMetrics } from '../domain/intake';
import type { MetricPoint } from '../domain/metrics';

/**
 * The same arrival metrics as the single-record intake, summed per metric and dataset for the batch. A record that
 * this delivery recorded counts as accepted even when a later step (starting the run) failed for it: its
 * redelivery finds it recorded (a duplicate), so it is accepted exactly once.
 */
export function batchMetrics(records: RecordOutcome[]): MetricPoint[] {
  const sums = new Map<string, MetricPoint>();
  for (const r of records) {
    const points =
      r.status === 'rejected' || r.status === 'poison'
        ? arrivalMetrics({ status: 'rejected', reason: r.reason })
        : r.status === 'accepted' || r.status === 'duplicate' || (r.status === 'failed' && r.recorded && r.event)
          ? arrivalMetrics({
              status: r.status === 'failed' ? 'accepted' : r.status,
              dataset: r.event!.dataset,
              partition: r.event!.partitionKey,
              key: r.event!.objectKey,
              startedExecution: null,
            })
          : [];
    for (const p of points) {
      const id = `${p.name}\n${p.dataset}`;
      const sum = sums.get(id);
      if (sum) sum.value += p.value;
      else sums.set(id, { ...p });
    }
  }
  return [...sums.values()];
}

export const handler = middy(
  async (event: SqsBatch, context: { getRemainingTimeInMillis(): number }): Promise<BatchResponse> => {
    const log = asLog(rootLogger, { step: 'onArrivalBatch' });
    const deps = intakeDeps();
    // Issue 23 item 5: keys are resolved in parallel, and only until the deadline allows; the rest come back.
    const outcome = await acceptBatch(event, deps, log, { remainingMs: () => context.getRemainingTimeInMillis() });
    publishMetrics(batchMetrics(outcome.records), deps.config.stage);
    const counts: Record<string, number> = {};
    for (const r of outcome.records) {
      counts[r.status] = (counts[r.status] ?? 0) + 1;
      if (r.status === 'rejected')
        log.warn('arrival rejected', { reason: r.reason, key: r.key, metric: 'RejectedArrivals' });
      else if (r.status === 'poison')
        log.error('poison record sent to the dead-letter queue', { messageId: r.messageId, reason: r.reason });
      else if (r.status === 'failed')
        log.warn('record failed; it comes back alone', { messageId: r.messageId, reason: r.reason });
    }
    log.info('batch taken in', { ...counts, startedExecutions: outcome.startedExecutions });
    return { batchItemFailures: outcome.batchItemFailures };
  },
).use(injectLambdaContext(rootLogger, { resetKeys: true }));
