// The one cost model (Glue, crawler, Athena, Step Functions), the job-run batch planner it drives, the cost
// of waits, and a run's cost report.
// This file is the folder's public surface: other folders import only what it exports (docs/architecture.md).
export { batchPlanOptions, modelPlan, planJobBatches } from './job-batches';
export type { BatchPlanOptions, SizedPartition } from './job-batches';
export { billedRunCost, formatRunCost, formatRunCostShort, modelledRunCost } from './run-cost-report';
export type { BilledCrawl, BilledJobRun, RunCost, RunCostPort } from './run-cost-report';
export { RUN_COST_MODEL } from './run-costs';
export type { RunCostModel } from './run-costs';
