/**
 * Manual runs by reference: a range per key, or a manifest object (an S3 URI of a JSON array of partitions), as
 * well as explicit partitions. Whatever the form, the run's partitions end up in one object under the execution's
 * prefix, which the Distributed Map reads with ItemReader: the state payload carries a reference and a count,
 * never the list, so a run is bounded by the Distributed Map (millions of items), not by 256 KiB.
 */
import type {
  ExecutionInput,
  ManifestRunInput,
  PartitionListRef,
  PartitionValues,
  RangeRunInput,
} from '../../schemas/types.generated';
import {
  parseS3Uri,
  runArtifacts,
  s3Uri,
  type ArtifactStore,
  type ObjectLocation,
  ConfigError,
  InvalidInputError,
  InvalidPartitionError,
  validate,
} from '../common';
import { type ResolvedDataset, assertPartition, partitionKey } from '../config';
import { expandRange, MAX_RANGE_PARTITIONS } from './partition-range';
import type { Deps } from '../deps';

/** Where people upload manifests in the artifacts bucket; a failed run's re-run manifest is under runs/. */
export const MANIFEST_FOLDER = 'manifests/';
const MANIFEST_FOLDERS = [MANIFEST_FOLDER, 'runs/'];

/** As many partitions as a range may name: a manifest holds as many. */
export const MAX_MANIFEST_PARTITIONS = MAX_RANGE_PARTITIONS;

export type ByReferenceInput = RangeRunInput | ManifestRunInput;

export const isRangeInput = (request: object): request is RangeRunInput => 'range' in request;
export const isManifestInput = (request: object): request is ManifestRunInput => 'manifest' in request;

/** Validates each partition and drops repeats (first one wins); `where(i)` names the i-th in errors. */
export function distinctPartitions(
  dataset: ResolvedDataset,
  partitions: readonly unknown[],
  where: (index: number) => string,
): PartitionValues[] {
  const seen = new Map<string, PartitionValues>();
  partitions.forEach((candidate, i) => {
    if (!candidate || typeof candidate !== 'object' || Array.isArray(candidate))
      throw new InvalidPartitionError(
        `${where(i)}: a partition is an object of key -> value, got ${JSON.stringify(candidate)}`,
      );
    const bad = Object.entries(candidate).find(([, v]) => typeof v !== 'string');
    if (bad)
      throw new InvalidPartitionError(
        `${where(i)}: value of '${bad[0]}' must be a string, got ${JSON.stringify(bad[1])}`,
      );
    let valid: PartitionValues;
    try {
      valid = assertPartition(dataset, candidate as PartitionValues);
    } catch (error) {
      throw new InvalidPartitionError(`${where(i)}: ${(error as Error).message}`);
    }
    const key = partitionKey(dataset, valid);
    if (!seen.has(key)) seen.set(key, valid);
  });
  return [...seen.values()];
}

/**
 * Reads a manifest object: a JSON array of partitions, each checked against the dataset's key patterns. Only the
 * stage's artifacts bucket is read (the run's role may read nothing else), so a manifest is uploaded there.
 */
export async function readManifest(
  store: ArtifactStore,
  dataset: ResolvedDataset,
  uri: string,
  limit = MAX_MANIFEST_PARTITIONS,
): Promise<PartitionValues[]> {
  const location = parseS3Uri(uri, 'manifest');
  if (location.bucket !== store.bucket)
    throw new InvalidInputError(
      `manifest ${uri} is in bucket '${location.bucket}'; manifests are read from the artifacts bucket '${store.bucket}' only (upload it there, under ${MANIFEST_FOLDER})`,
    );
  // The run's role may read only these folders of the bucket (deploy/functions.ts).
  if (!MANIFEST_FOLDERS.some((folder) => location.key.startsWith(folder)))
    throw new InvalidInputError(
      `manifest ${uri} is outside ${MANIFEST_FOLDERS.join(' and ')} of the artifacts bucket; upload it under ${MANIFEST_FOLDER}`,
    );
  const text = await store.get(location);
  if (text === null) throw new InvalidInputError(`manifest ${uri} does not exist`);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`manifest ${uri} is not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(document))
    throw new InvalidInputError(`manifest ${uri} must be a JSON array of partitions, e.g. [{"year":"2024"}]`);
  if (document.length === 0) throw new InvalidInputError(`manifest ${uri} lists no partitions`);
  if (document.length > limit)
    throw new InvalidInputError(`manifest ${uri} lists ${document.length} partitions, above the limit of ${limit}`);
  return distinctPartitions(dataset, document, (i) => `manifest ${uri} /${i}`);
}

/** Any manual input's partitions, validated and without repeats: explicit, by range, or by manifest. */
export async function manualPartitions(
  request: ByReferenceInput | { dataset: string; partitions: readonly unknown[] },
  dataset: ResolvedDataset,
  store: ArtifactStore,
): Promise<PartitionValues[]> {
  if ('partitions' in request)
    return distinctPartitions(dataset, request.partitions, (i) => `execution input /partitions/${i}`);
  return partitionsOf(request, dataset, store);
}

/**
 * The prepare step's part for a manual run: resolves the input to its partitions and writes the list the
 * Distributed Map reads. The state gets the reference and the count, whatever the size.
 */
export async function prepareManualItems(
  request: Parameters<typeof manualPartitions>[0],
  dataset: ResolvedDataset,
  store: ArtifactStore,
  executionArn: string,
): Promise<PartitionListRef> {
  return writePartitionList(store, executionArn, await manualPartitions(request, dataset, store));
}

/** The partitions a by-reference manual input names, validated and without repeats. */
export async function partitionsOf(
  request: ByReferenceInput,
  dataset: ResolvedDataset,
  store: ArtifactStore,
): Promise<PartitionValues[]> {
  if (isManifestInput(request)) return readManifest(store, dataset, request.manifest);
  // A range enumerates distinct partitions by construction; each value was checked while enumerating.
  return expandRange(dataset, request.range);
}

async function writeList(
  store: ArtifactStore,
  location: ObjectLocation,
  partitions: readonly PartitionValues[],
): Promise<PartitionListRef> {
  await store.put(location, JSON.stringify(partitions));
  return { bucket: location.bucket, key: location.key, count: partitions.length };
}

/**
 * Writes the run's partitions where the Distributed Map's ItemReader reads them (a JSON array, ReaderConfig
 * InputType JSON). Rewriting it on a retry or redrive writes the same object.
 */
export function writePartitionList(
  store: ArtifactStore,
  executionArn: string,
  partitions: readonly PartitionValues[],
): Promise<PartitionListRef> {
  return writeList(store, runArtifacts(store.bucket, executionArn).partitionList, partitions);
}

/** The failed partitions as a manifest object, and the manual input that re-runs exactly them. */
export async function writeRerunManifest(
  store: ArtifactStore,
  dataset: string,
  executionArn: string,
  failed: readonly PartitionValues[],
  skipCrawler: boolean,
): Promise<{ failed: PartitionListRef; rerunInput: ManifestRunInput }> {
  const location = runArtifacts(store.bucket, executionArn).failedPartitions;
  const ref = await writeList(store, location, failed);
  return { failed: ref, rerunInput: { dataset, manifest: s3Uri(location), skipCrawler } };
}

/** The succeeded partitions, for the Athena registration to read. */
export function writeSucceededList(
  store: ArtifactStore,
  executionArn: string,
  succeeded: readonly PartitionValues[],
): Promise<PartitionListRef> {
  return writeList(store, runArtifacts(store.bucket, executionArn).succeededPartitions, succeeded);
}

/** Reads a list written by this module (partition list, succeeded or failed partitions). */
export async function readPartitionList(store: ArtifactStore, ref: PartitionListRef): Promise<PartitionValues[]> {
  const text = await store.get(ref);
  if (text === null) throw new InvalidInputError(`partition list ${s3Uri(ref)} does not exist`);
  const list = JSON.parse(text) as PartitionValues[];
  if (!Array.isArray(list) || list.length !== ref.count)
    throw new InvalidInputError(
      `partition list ${s3Uri(ref)} holds ${Array.isArray(list) ? list.length : 'no'} partitions, expected ${ref.count}`,
    );
  return list;
}

/** The input forms a run accepts, told apart by one key each (schemas/execution-input.schema.json). */
const RUN_FORMS = [
  ['trigger', 'AutomaticRunInput'],
  ['partitions', 'ManualRunInput'],
  ['range', 'RangeRunInput'],
  ['manifest', 'ManifestRunInput'],
] as const;

/**
 * Validates an execution input. The form is picked by its key, and the input is checked against that form
 * alone, so the error names what is wrong with it (`/range/from/month must be string`) instead of listing why
 * it is none of the four forms.
 */
export function validateRunRequest(request: unknown): ExecutionInput {
  const what = 'execution input';
  if (!request || typeof request !== 'object' || Array.isArray(request))
    throw new InvalidInputError(
      `${what} must be a JSON object such as {"dataset":"orders","trigger":"arrival"}, got ${JSON.stringify(request)}`,
    );
  const forms = RUN_FORMS.filter(([key]) => key in request);
  if (forms.length !== 1)
    throw new InvalidInputError(
      `${what} must have exactly one of 'trigger' (automatic run), 'partitions', 'range' or 'manifest' (manual runs), ` +
        `got ${forms.length === 0 ? 'none' : forms.map(([key]) => `'${key}'`).join(' and ')}`,
    );
  const [, schema] = forms[0]!;
  validate(schema, request, what);
  return validate<ExecutionInput>('ExecutionInput', request, what);
}

/** The run's artifact store; steps that write or read lists by reference cannot do without it. */
export function artifactsOf(deps: Pick<Deps, 'artifacts'>): ArtifactStore {
  if (!deps.artifacts)
    throw new ConfigError(
      'no artifacts store: set SLUICE_ARTIFACTS_BUCKET (AWS) or give the local runtime its artifacts folder',
    );
  return deps.artifacts;
}

/** The partitions a claim (or a manual run's prepare step) wrote for the Distributed Map; [] when none. */
export async function claimedList(
  deps: Pick<Deps, 'artifacts'>,
  debounce: { items?: PartitionListRef },
): Promise<PartitionValues[]> {
  return debounce.items ? readPartitionList(artifactsOf(deps), debounce.items) : [];
}
