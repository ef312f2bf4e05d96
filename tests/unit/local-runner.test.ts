/**
 * The local runner validates each definition once (asl-validator compiles its JSON schemas on every call, 0.35-1.4 s),
 * and runs the same flow whichever definition source and task invoker it is given.
 */
import { runStateMachine, sourceDefinition, type TaskInvoker } from '../../runtime/state-machine';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeWorld } from '../support/fakes';

let mockValidations = 0;
// Counts the machines built with validation on (the library validates in its constructor unless told noValidate).
jest.mock('aws-local-stepfunctions', () => {
  const actual = jest.requireActual('aws-local-stepfunctions');
  class CountingStateMachine extends actual.StateMachine {
    constructor(definition: unknown, options?: { validationOptions?: { noValidate?: boolean } }) {
      if (!options?.validationOptions?.noValidate) mockValidations += 1;
      super(definition, options);
    }
  }
  return { ...actual, StateMachine: CountingStateMachine };
});

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:unit';
const input = { dataset: 'orders', partitions: [{ year: '2024', month: '01', day: '05' }], skipCrawler: true };

test('two runs of one definition validate it once', async () => {
  // A fresh cross-process cache (adapters/local/validated-definitions.ts), so this process must validate once itself.
  process.env.SLUICE_CACHE_DIR = mkdtempSync(join(tmpdir(), 'sluice-asl-cache-'));
  const before = mockValidations;
  const first = await runStateMachine(input, { deps: fakeWorld().deps, executionArn: `${ARN}-1` });
  const second = await runStateMachine(input, { deps: fakeWorld().deps, executionArn: `${ARN}-2` });
  expect([first.status, second.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  expect(mockValidations - before).toBe(1);
});

test('an invalid definition is still refused (validation is skipped only after it passed once)', async () => {
  const broken = { ...sourceDefinition(), definition: { StartAt: 'Nowhere', States: {} } as never };
  await expect(
    runStateMachine(input, { deps: fakeWorld().deps, executionArn: ARN, definition: broken }),
  ).rejects.toThrow(/invalid/);
});

test('a pluggable invoker receives each Task with its step and bound resource', async () => {
  const world = fakeWorld();
  const seen: string[] = [];
  const inner = (await import('../../runtime/state-machine')).stepInvoker(world.deps);
  const invoke: TaskInvoker = (target, payload) => {
    seen.push(`${target.stepId} ${target.resource.split(':').pop()}`);
    return inner(target, payload);
  };
  // deps: the `.waitForTaskToken` Tasks (issue 13) run their await steps in-process, answered by the completion code.
  const run = await runStateMachine(input, { executionArn: ARN, invoke, deps: world.deps });
  expect(run.status).toBe('SUCCEEDED');
  expect(seen[0]).toBe('prepareRun sluice-local-PrepareRun');
  expect(seen).toContain('startJobRun sluice-local-StartJobRun');
  // No poll loop: the Checks of the waits are only a fallback (checkSchemas, issue 24, is a step of its own).
  expect(seen.filter((s) => /^check(Crawler|JobRun|PartitionRefresh) /.test(s))).toEqual([]);
});
