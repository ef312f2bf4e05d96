/** Target of the EventBridge rule on this state machine's "Step Functions Execution Status Change" events. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { awsDeps } from '../adapters/aws/deps';
import { asLog, rootLogger } from '../adapters/lambda/step';
import { releaseLeaseOfDeadExecution, type ExecutionStatusChange } from '../domain/runs';

export const handler = middy(async (event: ExecutionStatusChange) =>
  releaseLeaseOfDeadExecution(
    event,
    awsDeps(),
    asLog(rootLogger, { step: 'onExecutionStatusChange' }),
  ),
).use(injectLambdaContext(rootLogger, { resetKeys: true }));
