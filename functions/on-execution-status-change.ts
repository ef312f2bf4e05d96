/** Target of the EventBridge rule on this state machine's "Step Functions Execution Status Change" events. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { awsDeps } from '../adapters/aws/deps';
import { asLog, rootLogger } from '../adapters/lambda/step';
import type { Deps } from '../domain/deps';
import type { Log } from '../domain/common';
import { releaseLeaseOfDeadExecution, type ExecutionStatusChange } from '../domain/runs';
import { handleTimedOut } from '../domain/steps';

/**
 * TIMED_OUT goes its own way (issue 23, domain/steps/timed-out.ts): converted partitions registered, the rest pending
 * after a back-off, one notification. FAILED and ABORTED: the lease to a follow-up at once (domain/runs/protocol.ts).
 */
export async function onExecutionStatusChange(event: ExecutionStatusChange, deps: Deps, log: Log) {
  const { executionArn, status, input } = event.detail ?? {};
  if (status === 'TIMED_OUT' && executionArn) {
    let dataset: unknown;
    try {
      dataset = (JSON.parse(input ?? '{}') as { dataset?: unknown }).dataset;
    } catch {
      dataset = undefined;
    }
    if (typeof dataset === 'string') return handleTimedOut(dataset, executionArn, deps, log);
  }
  return releaseLeaseOfDeadExecution(event, deps, log);
}

export const handler = middy(async (event: ExecutionStatusChange) =>
  onExecutionStatusChange(event, awsDeps(), asLog(rootLogger, { step: 'onExecutionStatusChange' })),
).use(injectLambdaContext(rootLogger, { resetKeys: true }));
