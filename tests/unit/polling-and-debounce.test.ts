import { decideSettled } from '../../domain/runs';
import { nextPollSeconds, pollsForDuration } from '../../domain/config';

const policy = { minSeconds: 15, maxSeconds: 300, growth: 0.25 };

describe('polling policy', () => {
  test('never waits less than the minimum or more than the maximum', () => {
    expect(nextPollSeconds(0, policy)).toBe(15);
    expect(nextPollSeconds(100_000, policy)).toBe(300);
  });

  test('waits a fixed fraction of the elapsed time in between', () => {
    expect(nextPollSeconds(400, policy)).toBe(100);
  });

  test('polls grow about logarithmically with run time', () => {
    const hour = pollsForDuration(3600, policy);
    const fourHours = pollsForDuration(4 * 3600, policy);
    expect(hour).toBeLessThan(30);
    expect(pollsForDuration(600, policy)).toBeLessThan(hour / 2 + 5);
    // past the cap, polls grow linearly at 1 per maxSeconds: 36 more in 3 more hours
    expect(fourHours - hour).toBe(36);
  });
});

describe('debounce decision', () => {
  const at = (s: number) => new Date(Date.parse('2024-01-01T00:00:00Z') + s * 1000);
  const pending = (first: number, last: number) => ({
    partitions: 1,
    firstArrivalAt: at(first).toISOString(),
    lastArrivalAt: at(last).toISOString(),
  });
  const rule = { quietSeconds: 60, maxWaitSeconds: 300 };

  test('is settled after the quiet period', () => {
    expect(decideSettled(pending(0, 10), at(70), rule)).toEqual({ settled: true });
  });

  test('asks to wait for the rest of the quiet period', () => {
    expect(decideSettled(pending(0, 10), at(30), rule)).toEqual({ settled: false, waitSeconds: 40 });
  });

  test('is settled at the maximum wait even while arrivals continue', () => {
    expect(decideSettled(pending(0, 299), at(300), rule)).toEqual({ settled: true });
  });

  test('rounds a wait up to whole seconds, so the next look never comes before the quiet period is over', () => {
    expect(decideSettled(pending(0, 10), at(30.5), rule)).toEqual({ settled: false, waitSeconds: 40 });
    expect(decideSettled(pending(0, 10), at(69.75), rule)).toEqual({ settled: false, waitSeconds: 1 });
  });

  test('never asks to wait past the maximum wait', () => {
    expect(decideSettled(pending(0, 280), at(290), rule)).toEqual({ settled: false, waitSeconds: 10 });
  });
});
