// The cost capability's public surface: what other folders import (docs/architecture.md).
export { batchPlanOptions, modelPlan, planJobBatches } from './job-batches';
export type { BatchPlanOptions, SizedPartition } from './job-batches';
export { billedRunCost, formatRunCost, formatRunCostShort, modelledRunCost } from './run-cost-report';
export type { BilledCrawl, BilledJobRun, RunCost, RunCostPort } from './run-cost-report';
export { RUN_COST_MODEL } from './run-costs';
export type { RunCostModel } from './run-costs';
