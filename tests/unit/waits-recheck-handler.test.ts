/** The re-check queue's Lambda (functions/recheck-wait.ts): SQS partial-batch responses, one message at a time. */
import { MemoryRecheckQueue, MemoryTaskTokens, MemoryWaitStore } from '../../adapters/memory/waits';
import { fakeWorld } from '../support/fakes';
import { awaitJobInput, jobNameOf, recordingLog } from '../support/waits';

const world = fakeWorld();
const waitDeps = { waits: new MemoryWaitStore(), tokens: new MemoryTaskTokens(), rechecks: new MemoryRecheckQueue() };
jest.mock('../../adapters/aws/deps', () => ({ awsDeps: () => world.deps }));
jest.mock('../../adapters/aws/wait-deps', () => ({ awsWaitDeps: () => waitDeps }));

// Imported after the mocks so the handler wires the in-memory ports.
import { handler } from '../../functions/recheck-wait';
import { awaitCompletion } from '../../domain/waits/completion';

test('a malformed message is reported alone (retried, then kept by the DLQ); the good one completes its wait', async () => {
  world.jobs.script = () => ({ pollsToFinish: 1, finalState: 'SUCCEEDED' });
  const runId = await world.jobs.startJobRun(jobNameOf(world), {});
  const answers: unknown[] = [];
  waitDeps.tokens.open('token-1', (a) => answers.push(a));
  const { taskToken, ...check } = awaitJobInput(runId, 'token-1');
  await awaitCompletion({ kind: 'job', input: check }, taskToken, world.deps, waitDeps, recordingLog());
  const [request] = waitDeps.rechecks.drain();

  const response = await handler({
    Records: [
      { messageId: 'm-bad', body: '{"subject": 42}' },
      { messageId: 'm-not-json', body: 'not json' },
      { messageId: 'm-good', body: JSON.stringify({ subject: request!.subject, waiterId: request!.waiterId }) },
    ],
  });

  expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-bad' }, { itemIdentifier: 'm-not-json' }] });
  expect(answers).toHaveLength(1);
});
