// The metrics capability's public surface: what other folders import (docs/architecture.md).
export { METRICS, METRICS_NAMESPACE, NO_DATASET, jobRowMetrics, point, stepMetrics } from './metrics';
export type { MetricName, MetricPoint, MetricsPort } from './metrics';
