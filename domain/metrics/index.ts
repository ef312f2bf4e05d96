// The operating metrics: one definition of each, derived from what a step has in hand.
// This file is the folder's public surface: other folders import only what it exports (docs/architecture.md).
export { METRICS, METRICS_NAMESPACE, NO_DATASET, jobRowMetrics, point, stepMetrics } from './metrics';
export type { MetricName, MetricPoint, MetricsPort } from './metrics';
