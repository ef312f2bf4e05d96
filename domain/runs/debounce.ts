/**
 * Debounce decision: a burst is settled once no arrival came for `quietSeconds`, or once the oldest pending
 * arrival has waited `maxWaitSeconds` (a producer that never pauses still gets processed).
 */
import type { PendingSummary } from './ports';

export type DebounceDecision = { settled: true } | { settled: false; waitSeconds: number };

export function decideSettled(
  pending: PendingSummary,
  now: Date,
  policy: { quietSeconds: number; maxWaitSeconds: number },
): DebounceDecision {
  const sinceLast = (now.getTime() - Date.parse(pending.lastArrivalAt)) / 1000;
  const sinceFirst = (now.getTime() - Date.parse(pending.firstArrivalAt)) / 1000;
  if (sinceLast >= policy.quietSeconds || sinceFirst >= policy.maxWaitSeconds) return { settled: true };
  const untilQuiet = policy.quietSeconds - sinceLast;
  const untilMax = policy.maxWaitSeconds - sinceFirst;
  return { settled: false, waitSeconds: Math.max(1, Math.ceil(Math.min(untilQuiet, untilMax))) };
}
