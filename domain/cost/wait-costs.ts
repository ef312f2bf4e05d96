/**
 * The cost model of one partition's wait (issue 13): state transitions, detection delays and dollars, for the
 * poll loop of today and for the event-completed wait. A model, not a measurement: the figures the limits test
 * prints come from the real ASL in the local interpreter; this states what they must come to, and why.
 *
 * Today (Wait -> Check -> Choice loop in each Map child):
 *   Start the job run, Did it already finish?, n x (Wait, Check, Has it finished?), Report  => 3 + 3n
 * With events (".waitForTaskToken"):
 *   Start the job run, Did it already finish?, Wait for the job run (token), Report         => 4
 *   The fallback re-check runs outside the state machine (SQS-delayed Lambda): a lost event adds Lambda calls,
 *   not transitions. Only if the re-check path itself is broken does HeartbeatSeconds expire; then the ASL runs
 *   one Check and awaits again: 3 more transitions per HeartbeatSeconds.
 * Prices: Step Functions Standard $0.025 per 1,000 state transitions, retries included
 * (https://aws.amazon.com/step-functions/pricing/); Lambda $0.20 per 1M requests
 * (https://aws.amazon.com/lambda/pricing/); SQS $0.40 per 1M requests (https://aws.amazon.com/sqs/pricing/);
 * DynamoDB on-demand writes $0.625 per 1M WRU (https://aws.amazon.com/dynamodb/pricing/on-demand/), us-east-1.
 */
import type { PollingPolicy } from '../../schemas/types.generated';
import { nextPollSeconds, pollsForDuration, recheckDelaySeconds } from '../config';

/** HeartbeatSeconds of every token wait in the ASL: above the longest re-check delay (900 s) with margin. */
export const TOKEN_HEARTBEAT_SECONDS = 1800;

export const PRICE = {
  transition: 0.025 / 1000,
  lambdaRequest: 0.2 / 1e6,
  sqsRequest: 0.4 / 1e6,
  dynamoWrite: 0.625 / 1e6,
} as const;

export type WaitScenario = 'event' | 'event-lost' | 'safety-net-broken';

export interface WaitFigures {
  durationSeconds: number;
  transitions: number;
  /**
   * Worst-case seconds from the end of a job of about this duration to the Task's completion (the polling or
   * re-check interval in effect at that time), event delivery time excluded.
   */
  detectionDelaySeconds: number;
  lambdaCalls: number;
  dollarsPer1000PartitionRuns: number;
}

/** Today: the Wait/Check/Choice loop. Delay: up to the Wait in effect when the job ends (growth x elapsed, capped). */
export function pollLoopFigures(durationSeconds: number, policy: Required<PollingPolicy>): WaitFigures {
  const polls = pollsForDuration(durationSeconds, policy);
  let elapsed = 0;
  for (let i = 0; i < polls - 1; i++) elapsed += nextPollSeconds(elapsed, policy);
  const lastWait = nextPollSeconds(elapsed, policy);
  const transitions = 3 + 3 * polls;
  const lambdaCalls = 1 + polls; // start + checks
  return {
    durationSeconds,
    transitions,
    detectionDelaySeconds: lastWait,
    lambdaCalls,
    dollarsPer1000PartitionRuns: 1000 * (transitions * PRICE.transition + lambdaCalls * PRICE.lambdaRequest),
  };
}

/** Number of fallback re-checks before (and including) the one that finds a run of this duration finished. */
export function rechecksForDuration(
  durationSeconds: number,
  policy: Required<PollingPolicy>,
): { count: number; lastAt: number } {
  let at = recheckDelaySeconds(0, policy);
  let count = 1;
  while (at < durationSeconds) {
    at += recheckDelaySeconds(at, policy);
    count += 1;
  }
  return { count, lastAt: at };
}

export function eventWaitFigures(
  durationSeconds: number,
  policy: Required<PollingPolicy>,
  scenario: WaitScenario,
): WaitFigures {
  // start, await (+ its one check), completion: 3 Lambda calls and 2 DynamoDB writes (token, sent) per partition.
  let transitions = 4;
  let lambdaCalls = 3;
  let sqs = 1; // the first re-check message, sent by the await step
  let detectionDelaySeconds = 0;
  if (scenario !== 'event') {
    const rechecks = rechecksForDuration(durationSeconds, policy);
    if (scenario === 'event-lost') {
      lambdaCalls += rechecks.count - 1; // the completion Lambda never ran; each re-check is one call
      sqs += rechecks.count - 1;
      detectionDelaySeconds = recheckDelaySeconds(durationSeconds, policy);
    } else {
      const expiries = Math.ceil(durationSeconds / TOKEN_HEARTBEAT_SECONDS);
      transitions += 3 * expiries;
      lambdaCalls += 2 * expiries - 1; // per expiry: one Check + one await again; no completion Lambda
      detectionDelaySeconds = TOKEN_HEARTBEAT_SECONDS;
    }
  }
  const dollars =
    transitions * PRICE.transition + lambdaCalls * PRICE.lambdaRequest + sqs * PRICE.sqsRequest + 2 * PRICE.dynamoWrite;
  return {
    durationSeconds,
    transitions,
    detectionDelaySeconds,
    lambdaCalls,
    dollarsPer1000PartitionRuns: 1000 * dollars,
  };
}

const label = (seconds: number): string =>
  seconds % 3600 === 0 ? `${seconds / 3600}h` : seconds % 60 === 0 ? `${seconds / 60}min` : `${seconds}s`;

/** The figure line of issue 13 (event delivery time D is what the event bus adds; 0 s of simulated time). */
export function figureLine(durationSeconds: number, policy: Required<PollingPolicy>): string {
  const event = eventWaitFigures(durationSeconds, policy, 'event');
  const lost = eventWaitFigures(durationSeconds, policy, 'event-lost');
  return (
    `job duration: ${label(durationSeconds)}  transitions per partition: ${event.transitions}  ` +
    `detection delay (event): ${event.detectionDelaySeconds} s  detection delay (event lost): ${lost.detectionDelaySeconds} s`
  );
}
