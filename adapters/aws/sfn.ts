import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionStarter } from '../../domain/runs';
import type { ExecutionInput } from '../../schemas/types.generated';
import { mapAwsError } from './errors';

export class SfnExecutions implements ExecutionStarter {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  executionArnFor(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  async startExecution(name: string, input: ExecutionInput): Promise<string> {
    try {
      const { executionArn } = await this.sfn.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }),
      );
      return executionArn ?? this.executionArnFor(name);
    } catch (error) {
      // Same name and input: a retry of our own start. It is running; that is what we wanted.
      if ((error as { name?: string }).name === 'ExecutionAlreadyExists') return this.executionArnFor(name);
      throw mapAwsError(error, 'StepFunctions StartExecution');
    }
  }
}
