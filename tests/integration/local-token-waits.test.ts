/**
 * The local `.waitForTaskToken` (runtime/token-waits.ts) on aws-local-stepfunctions, before it is wired
 * into the runner. The definition below is one token Task shaped exactly like the design's "Wait for the job run"
 * (13-design.md §3) plus two markers for where its Catch leads; it is a fixture for the mechanism, not a flow.
 * It also pins the interpreter behaviours the design relies on: `$$.Task.Token` from the run context, the
 * override receiving `{ FunctionName, Payload }`, and Catch matching the name of an error the override throws.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  driveTokenWaits,
  LocalTokenWaits,
  TOKEN_PLACEHOLDER,
  WAIT_FOR_TASK_TOKEN,
  waitStepOf,
} from '../../runtime/token-waits';
import { LocalEventBus } from '../../adapters/local/event-bus';
import { runStateMachine } from '../../runtime/state-machine';
import { fakeWorld, type FakeWorld } from '../support/fakes';
import { EXECUTION, glueJobEvent, jobNameOf, PARTITION } from '../support/waits';

const STATE = 'Wait for the job run';
const definition = {
  StartAt: STATE,
  States: {
    [STATE]: {
      Type: 'Task',
      Resource: WAIT_FOR_TASK_TOKEN,
      Parameters: {
        FunctionName: '${AwaitJobRunFunctionArn}',
        Payload: {
          'dataset.$': '$.dataset',
          'partition.$': '$.partition',
          'executionArn.$': '$.executionArn',
          'job.$': '$.job',
          'taskToken.$': '$$.Task.Token',
        },
      },
      ResultPath: '$.job',
      HeartbeatSeconds: 1800,
      TimeoutSeconds: 172800,
      Catch: [
        {
          ErrorEquals: ['States.HeartbeatTimeout', 'States.Timeout'],
          ResultPath: '$.waitTimeout',
          Next: 'Fallback: check once',
        },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Failed' },
      ],
      End: true,
    },
    'Fallback: check once': { Type: 'Pass', End: true },
    Failed: { Type: 'Pass', End: true },
  },
} as unknown as StateMachineDefinition;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (condition()) return;
    await turn();
  }
  throw new Error('condition never became true');
}

interface Run {
  world: FakeWorld;
  waits: LocalTokenWaits;
  runId: string;
  result: Promise<Record<string, unknown>>;
  entered: string[];
  finish(state?: 'SUCCEEDED' | 'FAILED'): void;
  event(): ReturnType<typeof glueJobEvent>;
}

/** `before` runs once the Glue run exists and before the execution starts (the Task may start at once). */
async function start(
  bus = new LocalEventBus(),
  before: (world: FakeWorld, runId: string) => void = () => undefined,
): Promise<Run> {
  const world = fakeWorld();
  world.jobs.script = () => ({ pollsToFinish: Number.MAX_SAFE_INTEGER, finalState: 'SUCCEEDED' });
  const runId = await world.jobs.startJobRun(jobNameOf(world), {});
  before(world, runId);
  const waits = new LocalTokenWaits(world.deps, {
    executionArn: EXECUTION,
    bus,
    advanceClock: (s) => world.clock.advance(s),
  });
  const stepId = waitStepOf(definition.States[STATE] as never);
  expect(stepId).toBe('awaitJobRun');
  const execution = new StateMachine(definition).run(
    {
      dataset: 'orders',
      partition: PARTITION,
      executionArn: EXECUTION,
      job: {
        runId,
        runKey: 'sk1-local',
        attached: false,
        startedAt: world.clock.now().toISOString(),
        done: false,
        waitSeconds: 15,
      },
    },
    {
      overrides: { taskResourceLocalHandlers: { [STATE]: waits.handler(stepId!, STATE) } },
      context: { Execution: { Id: EXECUTION, Name: 'run-1' }, Task: { Token: TOKEN_PLACEHOLDER } } as never,
    },
  );
  const entered: string[] = [];
  const collecting = (async () => {
    for await (const e of execution.eventLogs) if (e.type === 'StateEntered') entered.push(e.state.name);
  })();
  return {
    world,
    waits,
    runId,
    // The event log is read to its end before the result is used, so `entered` is complete.
    result: (async () => {
      const output = (await execution.result) as Record<string, unknown>;
      await collecting;
      return output;
    })(),
    entered,
    finish(state = 'SUCCEEDED') {
      world.jobs.runs.find((r) => r.id === runId)!.state = state;
    },
    event: () => glueJobEvent(jobNameOf(world), runId, 'SUCCEEDED'),
  };
}

test('completes by the state-change event: the Task output is the Check output, one state entered', async () => {
  const run = await start();
  await until(() => run.waits.openTokens() === 1);
  run.finish();
  run.waits.bus.publish(run.event());
  expect(await run.waits.advance()).toBe('events');
  const output = await run.result;
  expect(output.job).toMatchObject({ runId: run.runId, done: true, result: { partition: PARTITION, ok: true } });
  expect(run.entered).toEqual([STATE]);
  expect(run.waits.tokens.answers.map((a) => a.outcome)).toEqual(['sent']);
});

test('a run that finished before the Task started is answered by the await step itself', async () => {
  const run = await start(undefined, (world, runId) => {
    world.jobs.runs.find((r) => r.id === runId)!.state = 'FAILED';
  });
  const output = await run.result;
  expect(output.job).toMatchObject({ done: true, result: { ok: false, state: 'FAILED' } });
  expect(run.waits.rechecks.requests).toEqual([]);
});

test('event lost: the driver runs the fallback re-check in simulated time and it completes the Task', async () => {
  const bus = new LocalEventBus({ withhold: () => true });
  const run = await start(bus);
  await until(() => run.waits.openTokens() === 1);
  run.finish();
  bus.publish(run.event());
  await driveTokenWaits(run.waits, run.result, () => 0);
  expect((await run.result).job).toMatchObject({ done: true });
  expect(bus.withheld).toHaveLength(1);
  expect(run.waits.counts).toMatchObject({ rechecks: 1, heartbeatTimeouts: 0 });
  expect(run.entered).toEqual([STATE]);
});

test('event lost and re-check path broken: the heartbeat expires and the Catch runs the fallback check', async () => {
  const run = await start();
  await until(() => run.waits.openTokens() === 1);
  run.waits.rechecks.drain();
  expect(await run.waits.advance()).toBe('heartbeat-timeout');
  const output = await run.result;
  expect(output.waitTimeout).toMatchObject({ Error: 'States.HeartbeatTimeout' });
  expect(run.entered).toEqual([STATE, 'Fallback: check once']);
  // A late answer to the expired token is refused, as Step Functions refuses it (TaskTimedOut).
  expect(await run.waits.tokens.succeed(`local:${EXECUTION}:${STATE}:1`, {})).toBe('token-closed');
});

test('a failed await Lambda fails the Task with its error name (Catch sees it), and its token dies', async () => {
  const run = await start(undefined, (world) => {
    world.jobs.getJobRun = async () => {
      throw Object.assign(new Error('no such run'), { name: 'GlueEntityNotFoundError' });
    };
  });
  const output = await run.result;
  expect(output.failure).toMatchObject({ Error: 'GlueEntityNotFoundError' });
  expect(run.waits.openTokens()).toBe(0);
});

test('a duplicated event: both copies reach the completion core, the Task is answered once', async () => {
  const bus = new LocalEventBus({ copies: () => 2 });
  const run = await start(bus);
  await until(() => run.waits.openTokens() === 1);
  run.finish();
  bus.publish(run.event());
  expect(await run.waits.advance()).toBe('events');
  await run.result;
  expect(run.waits.tokens.answers.filter((a) => a.outcome === 'sent')).toHaveLength(1);
  expect(bus.failures).toEqual([]);
  expect(run.entered).toEqual([STATE]);
});

test('the local bus refuses an event that is not in AWS shape, naming the field', () => {
  const bus = new LocalEventBus();
  expect(() =>
    bus.publish({
      source: 'aws.glue',
      'detail-type': 'Glue Job State Change',
      detail: { jobName: 'j', state: 'SUCCEEDED' },
    }),
  ).toThrow(/jobRunId/);
  expect(bus.pending()).toBe(0);
});

describe('through runStateMachine (runtime/state-machine.ts)', () => {
  async function runThroughRunner(lost: boolean) {
    const world = fakeWorld();
    world.jobs.script = () => ({ pollsToFinish: Number.MAX_SAFE_INTEGER, finalState: 'SUCCEEDED' });
    const runId = await world.jobs.startJobRun(jobNameOf(world), {});
    const bus = new LocalEventBus({ withhold: () => lost });
    let waits: LocalTokenWaits | undefined;
    const running = runStateMachine(
      {
        dataset: 'orders',
        partition: PARTITION,
        executionArn: EXECUTION,
        job: {
          runId,
          runKey: 'sk1-local',
          attached: false,
          startedAt: world.clock.now().toISOString(),
          done: false,
          waitSeconds: 15,
        },
      },
      {
        deps: world.deps,
        executionArn: EXECUTION,
        definition: {
          definition: definition as never,
          stepOf: () => {
            throw new Error('the fixture has no plain Task');
          },
        },
        waits: { bus, advanceClock: (s) => world.clock.advance(s), onReady: (w) => (waits = w) },
      },
    );
    await until(() => waits?.openTokens() === 1);
    world.jobs.runs.find((r) => r.id === runId)!.state = 'SUCCEEDED';
    bus.publish(glueJobEvent(jobNameOf(world), runId, 'SUCCEEDED'));
    const result = await running;
    return { result, waits: waits!, bus };
  }

  test.each([false, true])(
    'event lost: %s -> the Task completes, one state entered, no heartbeat expiry',
    async (lost) => {
      const { result, waits, bus } = await runThroughRunner(lost);
      expect(result.status).toBe('SUCCEEDED');
      expect(result.output).toMatchObject({ job: { done: true, result: { ok: true } } });
      expect(result.events.filter((e) => e.type === 'StateEntered').map((e) => e.state?.name)).toEqual([STATE]);
      expect(waits.counts.heartbeatTimeouts).toBe(0);
      expect(bus.withheld).toHaveLength(lost ? 1 : 0);
    },
  );
});
