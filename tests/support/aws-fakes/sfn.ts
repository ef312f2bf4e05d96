/**
 * Step Functions (awsJson1_0, X-Amz-Target AWSStepFunctions.<Operation>). StartExecution: a name already used with
 * another input answers ExecutionAlreadyExists; the same name and input returns the same execution.
 * Task tokens (issue 13): the harness opens a token for each `.waitForTaskToken` Task; SendTaskSuccess/Failure close
 * it (a second answer: TaskTimedOut, "the task associated with the token has already been closed"), an unknown token
 * is InvalidToken; SendTaskHeartbeat on a closed token is TaskTimedOut too.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html
 */
import { AwsFault, epochSeconds, type Body, type FakeAwsServer, type JsonValue } from './server';

export class FakeSfn {
  readonly started: Array<{ stateMachineArn: string; name: string; input: string; executionArn: string }> = [];

  /** Every SendTask* call, in order, with what it did. */
  readonly answers: Array<{ operation: string; token: string; outcome: 'accepted' | 'TaskTimedOut' | 'InvalidToken' }> =
    [];
  private readonly tokens = new Map<
    string,
    { open: boolean; resolve(output: unknown): void; reject(error: Error): void; heartbeats: number }
  >();

  reset(): void {
    this.started.length = 0;
    this.answers.length = 0;
  }

  /** A token a Task waits on: the promise settles with SendTaskSuccess's output or SendTaskFailure's error. */
  openToken(token: string): Promise<unknown> {
    return new Promise((resolve, reject) => this.tokens.set(token, { open: true, resolve, reject, heartbeats: 0 }));
  }

  /** The Task ended otherwise (heartbeat expiry, execution over): later answers are TaskTimedOut. */
  closeToken(token: string): void {
    const entry = this.tokens.get(token);
    if (entry) entry.open = false;
  }

  heartbeatsOf(token: string): number {
    return this.tokens.get(token)?.heartbeats ?? 0;
  }

  private answer(
    operation: string,
    { taskToken }: Body,
    settle: (entry: { resolve(o: unknown): void; reject(e: Error): void }) => void,
  ): JsonValue {
    const token = String(taskToken ?? '');
    const entry = this.tokens.get(token);
    if (!entry) {
      this.answers.push({ operation, token, outcome: 'InvalidToken' });
      throw new AwsFault('InvalidToken', 'Invalid token');
    }
    if (!entry.open) {
      this.answers.push({ operation, token, outcome: 'TaskTimedOut' });
      throw new AwsFault('TaskTimedOut', 'Task Timed Out: the task associated with the token has already been closed');
    }
    this.answers.push({ operation, token, outcome: 'accepted' });
    settle(entry);
    return {};
  }

  private succeed(body: Body): JsonValue {
    return this.answer('SendTaskSuccess', body, (entry) => {
      this.closeToken(String(body.taskToken));
      entry.resolve(JSON.parse(String(body.output)));
    });
  }

  private fail(body: Body): JsonValue {
    return this.answer('SendTaskFailure', body, (entry) => {
      this.closeToken(String(body.taskToken));
      entry.reject(
        Object.assign(new Error(String(body.cause ?? '')), { name: String(body.error ?? 'States.TaskFailed') }),
      );
    });
  }

  private heartbeat(body: Body): JsonValue {
    return this.answer('SendTaskHeartbeat', body, () => {
      this.tokens.get(String(body.taskToken))!.heartbeats += 1;
    });
  }

  register(server: FakeAwsServer): void {
    server.register({
      name: 'sfn',
      protocol: 'awsJson1_0',
      targetPrefix: 'AWSStepFunctions',
      operations: {
        StartExecution: (b) => this.start(b),
        SendTaskSuccess: (b) => this.succeed(b),
        SendTaskFailure: (b) => this.fail(b),
        SendTaskHeartbeat: (b) => this.heartbeat(b),
      },
    });
  }

  private start({ stateMachineArn, name, input }: Body): JsonValue {
    const executionArn = `${String(stateMachineArn).replace(':stateMachine:', ':execution:')}:${name}`;
    const earlier = this.started.find((e) => e.executionArn === executionArn);
    if (earlier && earlier.input !== input)
      throw new AwsFault('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    if (!earlier) this.started.push({ stateMachineArn, name, input: String(input ?? '{}'), executionArn });
    return { executionArn, startDate: epochSeconds(new Date()) };
  }
}
