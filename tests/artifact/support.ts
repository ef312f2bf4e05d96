/**
 * The packaged world for the artifact suite: the `test` stage packaged once, its bundles in Lambda environments, its
 * state machine from the template, every AWS call over HTTP to loopback fakes (dynalite for DynamoDB).
 */
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  runStateMachine,
  type DefinitionSource,
  type LocalRunOptions,
  type LocalRunResult,
} from '../../runtime/state-machine';
import type { StepId } from '../../functions';
import type { WaitStepId } from '../../runtime/token-waits';
import { packagedTokenTasks, type TokenWaitCounts, type TokenWaitFaults } from './token-waits';
import { startAwsFakes, type AwsFakes } from '../support/aws-fakes';
import { fakeS3Artifacts } from './s3-artifacts';
import { ACCOUNT_ID, packageStage, PackagedLambdas, type PackagedStack } from '../support/package-stack';

export const STAGE = 'test';

export interface PackagedWorld {
  stack: PackagedStack;
  fakes: AwsFakes;
  lambdas: PackagedLambdas;
  definition: DefinitionSource;
  /** Per-function invocation timeout for the next runs (default: the template's Timeout). */
  timeouts: Map<string, number>;
  executionArn(name: string): string;
  run(
    name: string,
    input: unknown,
    options?: Partial<LocalRunOptions> & { tokenWaits?: TokenWaitFaults },
  ): Promise<ObservedRun>;
  stop(): Promise<void>;
}

/** A run with what each Task's function threw, by step (Step Functions' Error names, before Retry/Catch). */
export interface ObservedRun extends LocalRunResult {
  thrown: Array<{ stepId: StepId | WaitStepId; error: string; cause: string }>;
  inputs: Array<{ stepId: StepId | WaitStepId; input: unknown }>;
  /** `.waitForTaskToken` Tasks (tests/artifact/token-waits.ts): how each was answered. */
  tokenWaits: TokenWaitCounts;
}

async function createTablesFromTemplate(stack: PackagedStack, endpoint: string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: stack.region,
    credentials: { accessKeyId: 'fake', secretAccessKey: 'fake' },
  });
  try {
    for (const r of Object.values(stack.template.Resources).filter((r) => r.Type === 'AWS::DynamoDB::Table')) {
      const p = r.Properties;
      const input = {
        TableName: p.TableName,
        KeySchema: p.KeySchema,
        AttributeDefinitions: p.AttributeDefinitions,
        BillingMode: p.BillingMode,
        ...(p.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes } : {}),
      };
      await client.send(new CreateTableCommand(input));
      for (let i = 0; i < 200; i++) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: p.TableName }));
        if (Table?.TableStatus === 'ACTIVE') break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  } finally {
    client.destroy();
  }
}

/**
 * One packaged world per test file: built (or taken from the package cache) before the first test, stopped after the
 * last (waiting for its Lambda hosts), with the fakes reset and per-function timeouts cleared before each test.
 * `ready` hands the world to the file once it exists.
 */
export function usePackagedWorld(ready: (world: PackagedWorld) => void): void {
  let world: PackagedWorld | undefined;
  beforeAll(async () => {
    world = await packagedWorld();
    ready(world);
  }, 330_000);
  afterAll(async () => {
    await world?.stop();
  });
  beforeEach(() => {
    world?.fakes.reset();
    world?.timeouts.clear();
  });
}

export async function packagedWorld(): Promise<PackagedWorld> {
  const stack = await packageStage(STAGE);
  const fakes = await startAwsFakes(stack.region);
  await createTablesFromTemplate(stack, fakes.dynamoUrl);
  // Issue 12: the Distributed Map's ItemReader/ResultWriter and the bundles share the fake artifacts bucket.
  const artifacts = fakeS3Artifacts(fakes, stack.resolve({ Ref: 'ArtifactsBucket' }));
  // Issue 24: the drift step lists the raw bucket's partitions (the stack's RawBucket exists before any run).
  fakes.s3.createBucket(stack.resolve({ Ref: 'RawBucket' }));
  const timeouts = new Map<string, number>();
  const lambdas = new PackagedLambdas(stack, {
    env: { ...fakes.env, POWERTOOLS_LOG_LEVEL: 'WARN' },
    sqsEndpoint: fakes.server.url,
    timeoutMs: (fn) => timeouts.get(fn.key) ?? fn.timeoutSeconds * 1000,
  });
  const definition = stack.definitionSource();
  const machineName = String(
    Object.values(stack.template.Resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine')!.Properties
      .StateMachineName,
  );
  const executionArn = (name: string) =>
    `arn:aws:states:${stack.region}:${ACCOUNT_ID}:execution:${machineName}:${name}`;
  return {
    stack,
    fakes,
    lambdas,
    definition,
    timeouts,
    executionArn,
    async run(name, input, { tokenWaits: faults = {}, ...options } = {}) {
      const thrown: ObservedRun['thrown'] = [];
      const inputs: ObservedRun['inputs'] = [];
      const tokenWaits: TokenWaitCounts = { awaits: 0, events: 0, rechecks: 0, heartbeatTimeouts: 0 };
      const result = await runStateMachine(input as never, {
        executionArn: executionArn(name),
        definition,
        invoke: lambdas.invoker(),
        artifacts,
        ...options,
        waits: {
          ...options.waits,
          // A token Task's failure (the await function's error, or SendTaskFailure's) is recorded like a Task's.
          tokenTask: (functionName, stateName) => {
            const handler = packagedTokenTasks({ stack, fakes, lambdas }, faults, tokenWaits)(functionName, stateName);
            const stepId = Object.values(stack.functions).find((f) => f.arn === functionName)?.key as WaitStepId;
            return async (payload) => {
              inputs.push({ stepId, input: payload });
              try {
                return await handler(payload);
              } catch (error) {
                thrown.push({ stepId, error: (error as Error).name, cause: (error as Error).message });
                throw error;
              }
            };
          },
        },
        intercept: async (stepId, payload, stateName, invoke) => {
          inputs.push({ stepId, input: payload });
          try {
            return await (options.intercept ? options.intercept(stepId, payload, stateName, invoke) : invoke());
          } catch (error) {
            thrown.push({ stepId, error: (error as Error).name, cause: (error as Error).message });
            throw error;
          }
        },
      });
      return { ...result, thrown, inputs, tokenWaits };
    },
    async stop() {
      await lambdas.stop();
      await fakes.stop();
    },
  };
}

/** The SNS message's machine-readable report (the last line of the body). */
export function reportOf(message: string): Record<string, unknown> {
  return JSON.parse(message.trim().split('\n').pop()!) as Record<string, unknown>;
}
