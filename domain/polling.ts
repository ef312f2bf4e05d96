/**
 * Poll interval policy: wait = clamp(elapsed * growth, min, max).
 * While clamped below, polls come every `min` seconds; after that each wait is a fixed fraction of the time
 * already spent, so the number of polls grows with log(elapsed) and a finished run is noticed after at most
 * `growth` x elapsed (and never later than `max`). A 1-hour job with the defaults costs ~30 polls, not 720.
 */
import type { PollingPolicy } from '../schemas/types.generated';

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
