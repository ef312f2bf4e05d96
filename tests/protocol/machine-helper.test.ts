/** The state-machine test helper: an assertion inside a step intercept can never be swallowed by the ASL's Catch. */
import { fakeWorld } from '../support/fakes';
import { arrive, isTestFailure, runAutomatic } from '../support/machine';

test('a failed expectation inside an intercept fails the test although the ASL catches the failed step', async () => {
  const world = fakeWorld();
  await arrive(world, 'orders', 'year=2024/month=01/day=05');
  let caughtByAsl = false;
  await expect(
    runAutomatic(world, 'orders', {
      intercept: async (stepId, _input, _state, invoke) => {
        if (stepId === 'notifyFailure') caughtByAsl = true;
        const out = await invoke();
        if (stepId === 'startCrawler') expect('the crawler').toBe('never started');
        return out;
      },
    }),
  ).rejects.toMatchObject({ matcherResult: expect.anything() });
  expect(caughtByAsl).toBe(true); // without the helper, the run would just have taken its failure path
});

test('faults injected on purpose are still failures of the step, for the ASL to retry or catch', async () => {
  const world = fakeWorld();
  await arrive(world, 'orders', 'year=2024/month=01/day=05');
  let throttled = 0;
  const result = await runAutomatic(world, 'orders', {
    expectStatus: 'SUCCEEDED',
    intercept: async (stepId, _input, _state, invoke) => {
      if (stepId === 'startCrawler' && throttled++ === 0)
        throw Object.assign(new Error('Rate exceeded'), { name: 'AwsThrottledError' });
      return invoke();
    },
  });
  expect(result.status).toBe('SUCCEEDED');
  expect(throttled).toBe(2);
});

test('a run that ends otherwise than expected fails the test with its error', async () => {
  const world = fakeWorld();
  world.crawlers.script = { pollsToFinish: 0, outcome: 'FAILED', errorMessage: 'boom' };
  await arrive(world, 'orders', 'year=2024/month=01/day=05');
  await expect(runAutomatic(world, 'orders', { expectStatus: 'SUCCEEDED' })).rejects.toThrow(
    /ended FAILED, expected SUCCEEDED/,
  );
});

test('a step’s own TypeError is the step failing, not the test', () => {
  expect(isTestFailure(new TypeError('x'))).toBe(true);
  expect(isTestFailure(Object.assign(new Error('x'), { name: 'AwsThrottledError' }))).toBe(false);
  expect(isTestFailure('text')).toBe(false);
});
