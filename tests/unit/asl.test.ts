import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  documentedShapeProblems,
  needsLocalDistributedMap,
  type DistributedMapState,
} from '../../adapters/local/distributed-map';
import { allStates, DEFINITION_FILE, loadDefinition, stepIdOfResource } from '../../runtime/state-machine';
import { FATAL_ERRORS, RETRYABLE_ERRORS } from '../../domain/common/errors';
import { MAX_RECHECK_DELAY_SECONDS } from '../../domain/config';
import { WAIT_FOR_TASK_TOKEN, waitStepOf } from '../../runtime/token-waits';
import { RUN_TIMEOUT_SECONDS } from '../../domain/runs/protocol';
import { AWAIT_STEP_FILES, STEPS } from '../../functions';

const definition = loadDefinition();
const states = allStates(definition.States);
const allTasks = states.filter(([, s]) => s.Type === 'Task') as unknown as Array<[string, Record<string, unknown>]>;
/** `.waitForTaskToken` Tasks (issue 13) invoke an await step named in Parameters.FunctionName. */
const tokenTasks = allTasks.filter(([, s]) => s.Resource === WAIT_FOR_TASK_TOKEN);
const tasks = allTasks.filter(([, s]) => s.Resource !== WAIT_FOR_TASK_TOKEN);

test('the definition passes asl-validator', () => {
  const bin = join(__dirname, '..', '..', 'node_modules', '.bin', 'asl-validator');
  expect(execFileSync(bin, ['--json-path', DEFINITION_FILE]).toString()).toContain('is valid');
});

test('every Task state names a step that exists in functions/', () => {
  for (const [, s] of tasks) expect(STEPS[stepIdOfResource(String(s.Resource))]).toBeDefined();
});

test('every step in functions/ is used by some Task state', () => {
  const used = new Set(tasks.map(([, s]) => stepIdOfResource(String(s.Resource))));
  expect([...used].sort()).toEqual(Object.keys(STEPS).sort());
});

test('every Task state has a timeout and a Catch for all errors', () => {
  for (const [name, s] of allTasks) {
    expect([name, s.TimeoutSeconds]).toEqual([name, expect.any(Number)]);
    expect([name, (s.Catch as Array<{ ErrorEquals: string[] }>).at(-1)?.ErrorEquals]).toEqual([name, ['States.ALL']]);
  }
});

describe('the waits are token Tasks with polling only as the safety net (issue 13)', () => {
  const byName = Object.fromEntries(states) as unknown as Record<string, Record<string, unknown>>;
  type Catcher = { ErrorEquals: string[]; Next: string };
  const fallbackOf = (s: Record<string, unknown>) =>
    (s.Catch as Catcher[]).find((c) => c.ErrorEquals.includes('States.HeartbeatTimeout'))!;

  test('the crawler, each job run and the Athena registration wait on a task token, not a Wait state', () => {
    expect(tokenTasks.map(([, s]) => waitStepOf(s)).sort()).toEqual(Object.keys(AWAIT_STEP_FILES).sort());
    expect(states.filter(([, s]) => s.Type === 'Wait').map(([name]) => name)).toEqual([
      'Wait for arrivals to settle',
      'Wait for the earlier crawl to finish',
    ]);
  });

  test.each(tokenTasks.map(([name, s]) => [name, s] as const))('"%s" passes its token and has a heartbeat', (_, s) => {
    expect(s.Parameters).toMatchObject({ Payload: { 'taskToken.$': '$$.Task.Token' } });
    // Longer than the longest fallback re-check delay (SQS's 900 s cap), so it expires only when that path broke;
    // an explicit timeout, which the local interpreter would otherwise set to 60 s.
    expect(s.HeartbeatSeconds).toBeGreaterThan(MAX_RECHECK_DELAY_SECONDS);
    expect(s.TimeoutSeconds).toBe(RUN_TIMEOUT_SECONDS);
    // A heartbeat expiry must reach the fallback Check, never be retried away.
    const retried = (s.Retry as Array<{ ErrorEquals: string[] }>).flatMap((r) => r.ErrorEquals);
    expect(retried).not.toContain('States.HeartbeatTimeout');
    expect(retried).not.toContain('States.Timeout');
  });

  test.each(tokenTasks.map(([name, s]) => [name, s] as const))(
    '"%s": a heartbeat expiry runs one Check, and a still-running answer waits on a token again',
    (name, s) => {
      const check = byName[fallbackOf(s).Next]!;
      expect(check.Type).toBe('Task');
      const choice = byName[String(check.Next)]! as { Type: string; Default: string; Choices: Array<{ Next: string }> };
      expect(choice.Type).toBe('Choice');
      expect(choice.Default).toBe(name);
      // The Athena wait goes back to its Choice (issue 23: a finished wave may lead to the next wave).
      expect([...choice.Choices.map((c) => c.Next), String(check.Next)]).toContain(s.Next);
    },
  );
});

test('Retry clauses name only retryable sluice errors or AWS service errors', () => {
  const retried = allTasks.flatMap(([, s]) =>
    (s.Retry as Array<{ ErrorEquals: string[] }>).flatMap((r) => r.ErrorEquals),
  );
  for (const error of retried) {
    expect(FATAL_ERRORS as readonly string[]).not.toContain(error);
    if (!error.startsWith('Lambda.') && !error.startsWith('States.') && error !== MIDDY_TIMEOUT)
      expect(RETRYABLE_ERRORS as readonly string[]).toContain(error);
  }
});

test('the machine timeout is the one the run lease is sized for', () => {
  expect((definition as unknown as { TimeoutSeconds: number }).TimeoutSeconds).toBe(RUN_TIMEOUT_SECONDS);
});

test('the fan-out is a Distributed Map whose concurrency comes from the run', () => {
  const [, map] = states.find(([n]) => n === 'Process each partition')!;
  expect(map).toMatchObject({
    MaxConcurrencyPath: '$.run.maxConcurrency',
    ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
  });
});

// Issue 9, defect 9. AWS's recommended retry list for Lambda service exceptions, plus Lambda.Unknown: "Unhandled
// errors in Lambda are reported as Lambda.Unknown ... These include out-of-memory errors and function timeouts."
// https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
const LAMBDA_TRANSIENT = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.Unknown',
];

// A handler that runs into its timeout mostly ends a few ms early: @middy/core throws `TimeoutError` 5 ms before the
// deadline (timeoutEarlyInMillis), so Step Functions sees that errorType; if middy's timer is late, Lambda.Unknown.
const MIDDY_TIMEOUT = 'TimeoutError';

test('every Lambda Task retries Lambda service exceptions, timeouts and out-of-memory (Lambda.Unknown)', () => {
  for (const [name, s] of allTasks) {
    const retried = (s.Retry as Array<{ ErrorEquals: string[] }>).flatMap((r) => r.ErrorEquals);
    for (const error of [...LAMBDA_TRANSIENT, MIDDY_TIMEOUT])
      expect([name, retried]).toEqual([name, expect.arrayContaining([error])]);
  }
});

test('the Athena registration passes the redrive count (its ClientRequestToken must change on a redrive)', () => {
  const [, register] = tasks.find(([, s]) => String(s.Resource).includes('StartPartitionRefresh'))!;
  expect(register.Parameters).toMatchObject({ 'redriveCount.$': '$$.Execution.RedriveCount' });
});

test('every Map that reads from or writes to S3 has the ItemReader/ResultWriter shapes AWS documents (issue 12)', () => {
  const maps = allStates(loadDefinition().States).filter(([, state]) => needsLocalDistributedMap(state));
  for (const [name, state] of maps)
    expect(documentedShapeProblems(name, state as unknown as DistributedMapState)).toEqual([]);
});
