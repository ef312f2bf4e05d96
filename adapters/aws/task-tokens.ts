/**
 * SendTaskSuccess / SendTaskFailure. TaskTimedOut ("the task token has either expired or the task associated
 * with the token has already been closed"), InvalidToken and TaskDoesNotExist mean the Task is over by another
 * path (its fallback timeout, a duplicate completion, an aborted execution): they are outcomes, logged by the
 * caller, never crashes. Throttles and service faults propagate as AwsThrottledError (retried).
 * Sources: https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html (errors
 * InvalidOutput, InvalidToken, TaskDoesNotExist, TaskTimedOut; output <= 256 KiB),
 * https://docs.aws.amazon.com/botocore/latest/reference/services/stepfunctions/client/exceptions/TaskTimedOut.html
 */
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { SendOutcome, TaskTokenSender } from '../../domain/waits';
import { mapAwsError } from './errors';

const CLOSED: Record<string, SendOutcome> = {
  TaskTimedOut: 'token-closed',
  InvalidToken: 'token-invalid',
  TaskDoesNotExist: 'task-missing',
};

export class SfnTaskTokens implements TaskTokenSender {
  constructor(private readonly sfn: SFNClient) {}

  private async answer(call: string, send: () => Promise<unknown>): Promise<SendOutcome> {
    try {
      await send();
      return 'sent';
    } catch (error) {
      const closed = CLOSED[(error as { name?: string }).name ?? ''];
      if (closed) return closed;
      throw mapAwsError(error, call);
    }
  }

  succeed(taskToken: string, output: unknown): Promise<SendOutcome> {
    return this.answer('StepFunctions SendTaskSuccess', () =>
      this.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
    );
  }

  fail(taskToken: string, error: string, cause: string): Promise<SendOutcome> {
    return this.answer('StepFunctions SendTaskFailure', () =>
      this.sfn.send(new SendTaskFailureCommand({ taskToken, error, cause })),
    );
  }

  /** https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskHeartbeat.html (same three refusals). */
  heartbeat(taskToken: string): Promise<SendOutcome> {
    return this.answer('StepFunctions SendTaskHeartbeat', () =>
      this.sfn.send(new SendTaskHeartbeatCommand({ taskToken })),
    );
  }
}
