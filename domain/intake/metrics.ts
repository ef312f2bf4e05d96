import { NO_DATASET, point, type MetricPoint } from '../metrics';
import type { IntakeOutcome } from './arrival';

/** The intake's metrics: one arrival accepted, duplicate or rejected. */
export function arrivalMetrics(outcome: IntakeOutcome): MetricPoint[] {
  if (outcome.status === 'rejected') return point('ArrivalsRejected', 1, NO_DATASET);
  return point(outcome.status === 'accepted' ? 'ArrivalsAccepted' : 'ArrivalsDuplicate', 1, outcome.dataset);
}
