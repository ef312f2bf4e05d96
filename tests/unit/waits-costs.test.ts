/** The wait cost model (issue 13): today's figure reproduces the measured 81; the goals hold for any duration. */
import fc from 'fast-check';
import { eventWaitFigures, figureLine, pollLoopFigures } from '../../domain/cost/wait-costs';

const policy = { minSeconds: 15, maxSeconds: 300, growth: 0.25 };
const durations = fc.integer({ min: 1, max: 48 * 3600 });

test('today: a 1-hour job costs 81 transitions per partition ($2.03 per 1,000), as measured with the real ASL', () => {
  const today = pollLoopFigures(3600, policy);
  expect(today.transitions).toBe(81);
  expect(today.dollarsPer1000PartitionRuns).toBeCloseTo(2.03, 2);
});

test('with events: T <= 8 for any job duration, event delivered or lost (the re-check costs no transition)', () => {
  fc.assert(
    fc.property(durations, (d) => {
      expect(eventWaitFigures(d, policy, 'event').transitions).toBeLessThanOrEqual(8);
      expect(eventWaitFigures(d, policy, 'event-lost').transitions).toBeLessThanOrEqual(8);
    }),
  );
});

test('event lost: L <= 10 % of the elapsed time (or the policy minimum) and never above the fallback interval', () => {
  fc.assert(
    fc.property(durations, (d) => {
      const { detectionDelaySeconds: lost } = eventWaitFigures(d, policy, 'event-lost');
      expect(lost).toBeLessThanOrEqual(Math.max(policy.minSeconds, 0.1 * d + 0.5));
      expect(lost).toBeLessThanOrEqual(policy.maxSeconds);
    }),
  );
});

test('the figure line of the issue', () => {
  expect(figureLine(3600, policy)).toBe(
    'job duration: 1h  transitions per partition: 4  detection delay (event): 0 s  detection delay (event lost): 300 s',
  );
});
