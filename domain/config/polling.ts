/**
 * Poll interval policy: wait = clamp(elapsed * growth, min, max).
 * While clamped below, polls come every `min` seconds; after that each wait is a fixed fraction of the time
 * already spent, so the number of polls grows with log(elapsed) and a finished run is noticed after at most
 * `growth` x elapsed (and never later than `max`). A 1-hour job with the defaults costs ~30 polls, not 720.
 */
import type { PollingPolicy } from '../../schemas/types.generated';

export function nextPollSeconds(elapsedSeconds: number, policy: Required<PollingPolicy>): number {
  const proportional = Math.round(Math.max(0, elapsedSeconds) * policy.growth);
  return Math.min(policy.maxSeconds, Math.max(policy.minSeconds, proportional));
}

/** Number of polls needed to notice the end of a run lasting `durationSeconds`. */
export function pollsForDuration(durationSeconds: number, policy: Required<PollingPolicy>): number {
  let elapsed = 0;
  let polls = 0;
  while (elapsed < durationSeconds) {
    elapsed += nextPollSeconds(elapsed, policy);
    polls += 1;
  }
  return polls;
}

export function secondsBetween(fromIso: string, to: Date): number {
  return Math.max(0, (to.getTime() - Date.parse(fromIso)) / 1000);
}

/** The fallback re-check interval is at most this fraction of the time already waited (issue 13: L <= 10 %). */
export const RECHECK_GROWTH = 0.1;
/** SQS DelaySeconds accepts 0..900: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html */
export const MAX_RECHECK_DELAY_SECONDS = 900;

/** Fallback interval for the re-check poll: clamp(elapsed x min(growth, 0.1), min, min(max, 900)). */
export function recheckDelaySeconds(elapsedSeconds: number, policy: Required<PollingPolicy>): number {
  const ceiling = Math.min(policy.maxSeconds, MAX_RECHECK_DELAY_SECONDS);
  const proportional = Math.round(Math.max(0, elapsedSeconds) * Math.min(policy.growth, RECHECK_GROWTH));
  return Math.min(ceiling, Math.max(Math.min(policy.minSeconds, ceiling), proportional));
}
