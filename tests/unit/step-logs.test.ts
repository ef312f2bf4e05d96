import { Logger } from '@aws-lambda-powertools/logger';
import { defineStep, invokeStep } from '../../adapters/lambda/step';
import { defineWaitStep, invokeWaitStep } from '../../adapters/lambda/wait-handler';
import type { Deps } from '../../domain/deps';
import type { WaitDeps } from '../../domain/waits';

// Structured logs carry dataset, partition and execution on every line, whatever the core logs (house rule).
const input = {
  dataset: 'orders',
  partition: { year: '2024', month: '01', day: '02' },
  executionArn: 'arn:aws:states:us-east-1:000000000000:execution:sluice-dev:run-1',
};
const keys = {
  dataset: 'orders',
  partition: 'year=2024/month=01/day=02',
  executionArn: input.executionArn,
};

function captureLines(): { lines: () => Record<string, unknown>[]; restore: () => void } {
  // Powertools writes DEBUG/INFO to stdout and WARN/ERROR to stderr.
  const written: string[] = [];
  const record = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(record),
    jest.spyOn(process.stderr, 'write').mockImplementation(record),
  ];
  return {
    lines: () =>
      written
        .join('')
        .split('\n')
        .filter((l) => l.trim().startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}

const logger = () => new Logger({ serviceName: 'sluice-test', logLevel: 'DEBUG' });

describe('step logs', () => {
  it('every line of a step carries its step, dataset, partition and execution, beside the core’s own fields', async () => {
    const step = defineStep<typeof input, typeof input>({
      id: 'startJobRun',
      input: 'StartJobRunInput',
      output: 'StartJobRunInput',
      async run(value, _deps, log) {
        log.debug('looking');
        log.info('started', { runId: 'jr_1' });
        log.warn('slow');
        return value;
      },
    });
    const capture = captureLines();
    try {
      await invokeStep(step, input, {} as Deps, logger());
    } finally {
      capture.restore();
    }
    const lines = capture.lines();
    expect(lines.map((l) => l.message)).toEqual(['looking', 'started', 'slow']);
    for (const line of lines) expect(line).toMatchObject({ step: 'startJobRun', ...keys });
    expect(lines[1]).toMatchObject({ runId: 'jr_1' });
  });

  it('a failing step’s error line carries them too, and the next step’s lines carry only its own keys', async () => {
    const failing = defineStep<typeof input, typeof input>({
      id: 'startJobRun',
      input: 'StartJobRunInput',
      output: 'StartJobRunInput',
      async run() {
        throw new Error('boom');
      },
    });
    const other = defineWaitStep<unknown, unknown>({
      id: 'awaitJobRun',
      input: 'StartJobRunInput',
      output: 'StartJobRunInput',
      async run(value, _deps, _waitDeps, log) {
        log.info('waiting');
        return value;
      },
    });
    const shared = logger();
    const capture = captureLines();
    try {
      await expect(invokeStep(failing, input, {} as Deps, shared)).rejects.toThrow('boom');
      await invokeWaitStep(other, { ...input, dataset: 'clicks' }, {} as Deps, {} as WaitDeps, shared);
    } finally {
      capture.restore();
    }
    const [failed, waiting] = capture.lines();
    expect(failed).toMatchObject({ message: 'step failed', step: 'startJobRun', ...keys });
    expect(JSON.stringify(failed)).toContain('boom');
    expect(waiting).toMatchObject({ message: 'waiting', step: 'awaitJobRun', ...keys, dataset: 'clicks' });
  });
});
