/**
 * The metrics a whole automatic run implies, derived (as the Lambda wrapper derives them) from what every Task of
 * the real ASL received and returned: the claim's arrival times must reach the debounce-wait and the
 * landing-to-queryable latency, which only exist if the flow carries them to the release step.
 */
import { stepMetrics, type MetricPoint } from '../../domain/metrics';
import { fakeWorld } from '../support/fakes';
import { arrive, runAutomatic } from '../support/machine';

test('an automatic run yields DebounceWait and LandingToQueryable, measured from the claimed arrivals', async () => {
  const world = fakeWorld();
  await arrive(world, 'orders', 'year=2024/month=01/day=05');
  const points: MetricPoint[] = [];
  // Token waits (issue 13) answer through the completion code, which records the Check's metrics on deps.metrics.
  world.deps.metrics = { record: (recorded) => points.push(...recorded) };
  const result = await runAutomatic(world, 'orders', {
    intercept: async (stepId, input, _state, invoke) => {
      const output = await invoke();
      points.push(...stepMetrics(stepId, input, output, world.clock.now()));
      return output;
    },
  });
  expect(result.status).toBe('SUCCEEDED');
  const names = points.map((p) => p.name);
  expect(names).toEqual(
    expect.arrayContaining([
      'RunsStarted',
      'DebounceWait',
      'PartitionsProcessed',
      'PartitionsQueryable',
      'LandingToQueryable',
    ]),
  );
  for (const p of points.filter((x) => x.name === 'DebounceWait' || x.name === 'LandingToQueryable')) {
    expect(p.dataset).toBe('orders');
    expect(p.value).toBeGreaterThanOrEqual(0);
  }
});
