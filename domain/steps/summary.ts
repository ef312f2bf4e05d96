/**
 * Issue 12: the run's lists live in objects, the state holds references. This module is the step side of that:
 * the prepare step's manual forms, the claim's list, the summary read from ResultWriter's manifest, and the
 * release step's "what did this run deal with", which reads the lists the state points at.
 */
import type {
  ClaimArrivalsOutput,
  ExecutionInput,
  MapRunSummary,
  PartitionValues,
  RunContext,
  SummarizeMapRunInput,
} from '../../schemas/types.generated';
import { parseS3Uri, runArtifacts, s3Uri, type Log } from '../common';
import { type ResolvedDataset, assertPartition, partitionKey } from '../config';
import { summarizeMapRun } from './map-results';
import type { Deps } from '../deps';
import { artifactsOf, manualPartitions, writePartitionList } from '../inputs';
import { assertManualRunFits } from './plan';

/** Where this run's Distributed Map writes its results (ResultWriter Bucket and Prefix). */
export function artifactsContext(
  deps: Pick<Deps, 'artifacts'>,
  executionArn: string,
): Pick<RunContext, 'artifactsBucket' | 'resultsPrefix'> {
  const store = artifactsOf(deps);
  return { artifactsBucket: store.bucket, resultsPrefix: runArtifacts(store.bucket, executionArn).mapResultsPrefix };
}

/**
 * A manual run's debounce state: already settled, with its partitions (explicit, a range, or a manifest)
 * validated and written where the Distributed Map's ItemReader reads them. `partitionCount` stays 0: it counts
 * claimed arrivals, and a manual run claims none.
 */
export async function prepareManualDebounce(
  request: Exclude<ExecutionInput, { trigger: unknown }>,
  dataset: ResolvedDataset,
  deps: Deps,
  executionArn: string,
): Promise<ClaimArrivalsOutput> {
  const store = artifactsOf(deps);
  const partitions = await manualPartitions(request, dataset, store);
  // Issue 23: no execution takes more than the model says fits in half its timeout; refused before anything is written.
  await assertManualRunFits(request, dataset, partitions, deps);
  const items = await writePartitionList(store, executionArn, partitions);
  return { settled: true, waitSeconds: 0, partitionCount: 0, claimedAt: deps.clock.now().toISOString(), items };
}

/** The claimed partitions as the Distributed Map's item list; the claim record stays the list's one owner. */
export function writeClaimedList(deps: Deps, executionArn: string, partitions: readonly PartitionValues[]) {
  return writePartitionList(artifactsOf(deps), executionArn, partitions);
}

/** State "Summarize the partition runs": counts and references, read from the ResultWriter manifest. */
export async function summarizeRun(input: SummarizeMapRunInput, deps: Deps, log: Log): Promise<MapRunSummary> {
  const summary = await summarizeMapRun(input, artifactsOf(deps));
  log.info('partition runs summarized', {
    succeeded: summary.succeededCount,
    failed: summary.failedCount,
    resultsManifest: summary.resultsManifest,
  });
  return summary;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A list the state names: an inline array (older states), a list reference {bucket, key, count}, or a manifest
 * URI. A reference to an object that is gone counts as naming nothing (its partitions go back to pending: a
 * re-run, never a loss); a read that fails throws, so the step is retried.
 */
async function listNamed(deps: Deps, value: unknown): Promise<unknown[]> {
  if (Array.isArray(value)) return value;
  const store = deps.artifacts;
  if (!store) return [];
  let location;
  if (isRecord(value) && typeof value.bucket === 'string' && typeof value.key === 'string')
    location = { bucket: value.bucket, key: value.key };
  else if (typeof value === 'string') location = parseS3Uri(value, 'list');
  else return [];
  const text = await store.get(location);
  if (text === null) return [];
  const list = JSON.parse(text) as unknown;
  return Array.isArray(list) ? list : [];
}

/**
 * Keys of the claimed partitions this run dealt with: processed (the summary's succeeded list), or named in
 * the failure notification's re-run input (explicit partitions, or the manifest object it points at).
 */
export async function partitionsDealtWith(
  state: { jobResults?: unknown; notification?: { report?: { rerunInput?: unknown } } },
  dataset: ResolvedDataset,
  deps: Deps,
): Promise<string[]> {
  const keys = (list: unknown[]): string[] =>
    list.flatMap((p) => {
      try {
        return [partitionKey(dataset, assertPartition(dataset, p as PartitionValues))];
      } catch {
        return [];
      }
    });
  const jobResults = isRecord(state.jobResults) ? state.jobResults : {};
  const rerun = isRecord(state.notification?.report?.rerunInput) ? state.notification.report.rerunInput : {};
  const succeeded = await listNamed(deps, jobResults.succeeded);
  const named = await listNamed(deps, rerun.partitions ?? rerun.manifest);
  return [...keys(succeeded), ...keys(named)];
}

/** The manual input that re-runs a list object's partitions. */
export const manifestInputFor = (
  dataset: string,
  list: { bucket: string; key: string },
  skipCrawler: boolean,
): ExecutionInput => ({ dataset, manifest: s3Uri(list), skipCrawler });
