/**
 * Step Functions (awsJson1_0, X-Amz-Target AWSStepFunctions.<Operation>). StartExecution: a name already used with
 * another input answers ExecutionAlreadyExists; the same name and input returns the same execution.
 */
import { AwsFault, epochSeconds, type Body, type FakeAwsServer, type JsonValue } from './server';

export class FakeSfn {
  readonly started: Array<{ stateMachineArn: string; name: string; input: string; executionArn: string }> = [];

  reset(): void {
    this.started.length = 0;
  }

  register(server: FakeAwsServer): void {
    server.register({
      name: 'sfn',
      protocol: 'awsJson1_0',
      targetPrefix: 'AWSStepFunctions',
      operations: { StartExecution: (b) => this.start(b) },
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
