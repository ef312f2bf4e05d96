/**
 * `.waitForTaskToken` Tasks in the artifact suite (issue 13). aws-local-stepfunctions does not simulate callbacks,
 * so each token Task of the packaged definition is run here the way Step Functions runs it: a token is opened on
 * the fake Step Functions endpoint, the packaged await function (Parameters.FunctionName, from its zip) is invoked
 * with the Payload and the token, and the Task ends when a packaged bundle answers the token over HTTP
 * (SendTaskSuccess / SendTaskFailure). The answer comes from what AWS would do next:
 * - events delivered (default): the Glue/crawler/Athena state-change event of the awaited work, in AWS's shape,
 *   is handed to the packaged completeWait function (as its EventBridge rule would);
 * - events withheld: the re-check messages the packaged bundles put on the fake re-check queue are handed to the
 *   packaged recheckWait function (as its SQS event source mapping would), in queue order;
 * - neither answers (re-check path broken too): the Task fails with States.HeartbeatTimeout, as HeartbeatSeconds
 *   would make it, so the ASL's fallback Check runs.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  athenaQueryStateChange,
  glueCrawlerStateChange,
  glueJobStateChange,
} from '../../adapters/local/state-change-events';
import type { AwsFakes } from '../support/aws-fakes';
import type { PackagedLambdas, PackagedStack } from '../support/package-stack';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface TokenWaitFaults {
  /** The state-change events are lost (EventBridge is best effort): only the re-check path answers. */
  withholdEvents?: boolean;
  /** Each event is delivered twice (EventBridge delivers at least once). */
  duplicateEvents?: boolean;
  /** Events are delivered even when the await function already answered (the work ended before the token). */
  lateEvents?: boolean;
  /** The re-check path is broken too: the Task's heartbeat expires. */
  breakRechecks?: boolean;
}

export interface TokenWaitCounts {
  awaits: number;
  events: number;
  rechecks: number;
  heartbeatTimeouts: number;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** Rounds of re-checks before the simulated heartbeat expires (the fakes finish after 1-2 reads). */
const MAX_RECHECK_ROUNDS = 20;

export function packagedTokenTasks(
  world: { stack: PackagedStack; fakes: AwsFakes; lambdas: PackagedLambdas },
  faults: TokenWaitFaults,
  counts: TokenWaitCounts,
): (functionName: string, stateName: string) => (input: Json) => Promise<Json> {
  const { stack, fakes, lambdas } = world;
  const keyByArn = new Map(Object.values(stack.functions).map((f) => [f.arn, f.key]));
  const recheckQueue = () => [...fakes.sqs.queues.keys()].find((url) => url.endsWith('-wait-rechecks')) ?? '';
  const workgroup = String(
    (
      JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'test.json'), 'utf8')) as {
        athena?: { workgroup?: string };
      }
    ).athena?.workgroup ?? 'primary',
  );

  function eventsFor(key: string, payload: Record<string, Json>): unknown[] {
    if (key === 'awaitJobRun') {
      const runId = String((payload.job as { runId?: string }).runId);
      const run = fakes.glue.runs.find((r) => r.Id === runId);
      return run ? [glueJobStateChange(run.JobName, run.Id, fakes.glue.jobOutcome(run.Arguments).state)] : [];
    }
    if (key === 'awaitCrawler') {
      const name = String((payload.crawl as { crawlerName?: string }).crawlerName);
      const outcome = fakes.glue.crawlOutcome(name);
      const state = outcome.status === 'SUCCEEDED' ? 'Succeeded' : 'Failed';
      return [glueCrawlerStateChange(name, state, new Date(), outcome.errorMessage)];
    }
    const ids = (payload.refresh as { queryExecutionIds?: string[] }).queryExecutionIds ?? [];
    return ids.map((id) => {
      const query = fakes.athena.queries.find((q) => q.id === id);
      return athenaQueryStateChange(
        id,
        query ? fakes.athena.queryOutcome(query.sql).state : 'SUCCEEDED',
        'RUNNING',
        workgroup,
      );
    });
  }

  // Concurrent token Tasks (Map children) share the one re-check queue: a Task that finds the queue empty while
  // another Task's recheckWait invocation (which may answer this Task's token) is still running must wait for it,
  // not conclude that nobody will answer. Otherwise a slow (loaded) machine turns into a simulated heartbeat expiry.
  const rechecksInFlight = new Set<Promise<unknown>>();

  async function deliverRechecks(): Promise<number> {
    const queue = fakes.sqs.queues.get(recheckQueue()) ?? [];
    const batch = queue.splice(0, queue.length);
    if (batch.length === 0) return 0;
    counts.rechecks += batch.length;
    const invocation = lambdas.invoke('recheckWait', {
      Records: batch.map((m) => ({ messageId: m.MessageId, receiptHandle: m.ReceiptHandle, body: m.Body })),
    });
    rechecksInFlight.add(invocation);
    try {
      await invocation;
    } finally {
      rechecksInFlight.delete(invocation);
    }
    return batch.length;
  }

  /** Delivers what the queue holds; with nothing queued, waits for others' re-checks. False: nothing can answer. */
  async function recheckRound(): Promise<boolean> {
    if ((await deliverRechecks()) > 0) return true;
    if (rechecksInFlight.size === 0) return false;
    await Promise.allSettled([...rechecksInFlight]);
    return true;
  }

  return (functionName, stateName) => {
    const key = keyByArn.get(functionName);
    if (!key || !key.startsWith('await'))
      throw new Error(`${stateName}: ${functionName} is no packaged await function`);
    return async (input) => {
      const payload = (input as { Payload?: Record<string, Json> } | null)?.Payload;
      if (!payload) throw new Error(`${stateName}: token Task input has no Payload`);
      const token = `artifact-${randomUUID()}`;
      let settled = false;
      const answered = fakes.sfn.openToken(token).finally(() => (settled = true));
      answered.catch(() => undefined);
      counts.awaits += 1;
      try {
        await lambdas.invoke(key, { ...payload, taskToken: token });
      } catch (error) {
        fakes.sfn.closeToken(token); // the Task failed with the await function's error: the token dies with it
        throw error;
      }
      await turn();
      if ((!settled || faults.lateEvents) && !faults.withholdEvents) {
        for (const event of eventsFor(key, payload))
          for (let copy = 0; copy < (faults.duplicateEvents ? 2 : 1); copy++) {
            counts.events += 1;
            await lambdas.invoke('completeWait', event);
          }
        await turn();
      }
      for (let round = 0; !settled && !faults.breakRechecks && round < MAX_RECHECK_ROUNDS; round++) {
        if (!(await recheckRound())) break;
        await turn();
      }
      if (!settled) {
        fakes.sfn.closeToken(token);
        counts.heartbeatTimeouts += 1;
        throw Object.assign(new Error(`${stateName}: no heartbeat (simulated)`), { name: 'States.HeartbeatTimeout' });
      }
      return (await answered) as Json;
    };
  };
}
