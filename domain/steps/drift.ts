/**
 * Issue 24, states "Check the new files' schemas" and "Classify the crawled table".
 *
 * Where fingerprints are taken: here, over the run's partitions, not at intake. The drift step sees every run
 * (manual runs never pass the intake), it runs once per run instead of on the intake's hot path (whose 30 s
 * timeout already has the key resolution and the protocol's transactions in it), and a crash or retry simply reads
 * again: it writes nothing until it has read everything, and what it writes (fingerprint items, the two lists) is
 * idempotent. Each data file costs one ranged GET (two for Parquet), and one ListObjectsV2 per partition.
 *
 * The fingerprint items are their own item kind, outside the run protocol's transactions: one per dataset and
 * fingerprint (first file, schema, class, the run that first saw it, when a crawl learned it).
 */
import pLimit from 'p-limit';
import type {
  CheckCrawledSchemaInput,
  CheckSchemasInput,
  CrawledSchemaCheck,
  DriftColumnsInfo,
  JobRunResult,
  PartitionListRef,
  PartitionValues,
  SchemaDrift,
} from '../../schemas/types.generated';
import {
  runArtifacts,
  type ArtifactStore,
  type ObjectLocation,
  InvalidInputError,
  failureMessage,
  type Log,
} from '../common';
import { datasetNamed, type ResolvedDataset, rawPartitionPrefix } from '../config';
import type { Deps } from '../deps';
import { artifactsOf } from '../inputs';
import {
  catalogColumnType,
  classifyDrift,
  crawlerDecision,
  fingerprintOf,
  readFileSchema,
  rawTableName,
  UnreadableSchemaError,
  type Drift,
  type DriftPort,
  type FileSchema,
  type FingerprintRecord,
} from '../drift';

/** Listings and ranged reads at once (each a short S3 round trip; S3 allows 5,500 GET/HEAD per second per prefix). */
export const DRIFT_READ_CONCURRENCY = 32;
/**
 * Reading stops starting new listings or reads after this long: the Lambda has 50 s (deploy/functions.ts)
 * and the rest is for the writes. What was not read is not guessed at: its partitions go on to their job runs
 * unchecked (the job still fails a file that lacks a column, by job.missingColumns), and the crawler runs, since
 * it may learn what the step could not read.
 */
export const DRIFT_READ_BUDGET_MS = 35_000;
/** A failed partition's message is a JobRunResult message (at most 200 characters). */
const MESSAGE_LIMIT = 200;
const LISTED = 50;

/** The state JobRunResult.state of a partition failed for breaking drift. */
export const SCHEMA_DRIFT_STATE = 'SCHEMA_DRIFT';

interface FileRead {
  partition: number;
  file: string;
  schema?: FileSchema;
  unreadable?: string;
  /** Not read within the step's time budget. */
  unchecked?: true;
}

const driftItems = (bucket: string, executionArn: string) => {
  const { prefix } = runArtifacts(bucket, executionArn);
  return {
    items: { bucket, key: `${prefix}drift-partitions.json` },
    failures: { bucket, key: `${prefix}drift-failures.json` },
  };
};

async function writeJson(store: ArtifactStore, at: ObjectLocation, list: unknown[]): Promise<PartitionListRef> {
  await store.put(at, JSON.stringify(list), 'application/json');
  return { bucket: at.bucket, key: at.key, count: list.length };
}

async function readPartitions(store: ArtifactStore, ref: unknown): Promise<PartitionValues[]> {
  const at = ref as Partial<ObjectLocation> | undefined;
  if (!at || typeof at.bucket !== 'string' || typeof at.key !== 'string')
    throw new InvalidInputError('debounce.items is not a partition list {bucket, key}');
  const text = await store.get({ bucket: at.bucket, key: at.key });
  if (text === null) throw new InvalidInputError(`the partition list s3://${at.bucket}/${at.key} does not exist`);
  return JSON.parse(text) as PartitionValues[];
}

/** A file's key relative to the dataset's raw prefix: what a message names. */
const shortName = (dataset: ResolvedDataset, key: string): string =>
  key.startsWith(dataset.raw.prefix) ? key.slice(dataset.raw.prefix.length) : key;

/** What is wrong with a breaking file, in the contract's words. */
function breakingReason(drift: Drift): string {
  const parts: string[] = [];
  if (drift.missingColumns.length > 0)
    parts.push(`lacks mapped column${drift.missingColumns.length > 1 ? 's' : ''} ${drift.missingColumns.join(', ')}`);
  for (const u of drift.uncastableColumns)
    parts.push(`column ${u.column} is ${u.type}, which the contract cannot cast`);
  return parts.join('; ');
}

async function readAll(
  dataset: ResolvedDataset,
  partitions: PartitionValues[],
  port: DriftPort,
  budgetMs: number,
): Promise<{ reads: FileRead[]; uncheckedPartitions: number }> {
  const endsAt = Date.now() + budgetMs;
  const limit = pLimit(DRIFT_READ_CONCURRENCY);
  const listings = await Promise.all(
    partitions.map((p) =>
      limit(async () =>
        Date.now() < endsAt ? port.listFiles(dataset.raw.bucket, rawPartitionPrefix(dataset, p)) : null,
      ),
    ),
  );
  const uncheckedPartitions = listings.filter((keys) => keys === null).length;
  const files = listings.flatMap((keys, partition) => [...(keys ?? [])].sort().map((file) => ({ partition, file })));
  const reads = await Promise.all(
    files.map(({ partition, file }) =>
      limit(async (): Promise<FileRead> => {
        if (Date.now() >= endsAt) return { partition, file, unchecked: true };
        try {
          const schema = await readFileSchema(file, dataset.raw.format, port.reader(dataset.raw.bucket, file));
          return { partition, file, schema };
        } catch (error) {
          if (error instanceof UnreadableSchemaError) return { partition, file, unreadable: error.message };
          throw error;
        }
      }),
    ),
  );
  return { reads, uncheckedPartitions };
}

const infoOf = (record: FingerprintRecord): DriftColumnsInfo => ({
  fingerprint: record.fingerprint,
  class: record.class,
  firstFile: record.firstFile,
  newColumns: record.newColumns,
  ...(record.missingColumns.length > 0 ? { missingColumns: record.missingColumns } : {}),
  ...(record.uncastableColumns.length > 0 ? { uncastableColumns: record.uncastableColumns } : {}),
});

/** The line a new additive fingerprint gets in the run's output and `sluice status`. */
export const additiveLine = (dataset: string, info: DriftColumnsInfo): string =>
  `${dataset}: new column${info.newColumns.length > 1 ? 's' : ''} ${info.newColumns.join(', ')} (not in the mapping), ` +
  `first in ${info.firstFile} (schema ${info.fingerprint})`;

/** Lines for `sluice status`: the dataset's drifted fingerprints, newest first, each naming its first file. */
export function schemaDriftNotes(records: readonly FingerprintRecord[], limit = 5): string[] {
  return [...records]
    .filter((r) => r.class !== 'none')
    .sort((a, b) => b.firstSeenAt.localeCompare(a.firstSeenAt))
    .slice(0, limit)
    .map((r) =>
      r.class === 'additive'
        ? additiveLine(r.dataset, infoOf(r))
        : `${r.dataset}: breaking schema ${r.fingerprint}, first in ${r.firstFile}: ${[
            ...(r.missingColumns.length > 0 ? [`lacks ${r.missingColumns.join(', ')}`] : []),
            ...r.uncastableColumns.map((u) => `uncastable ${u}`),
          ].join('; ')}`,
    );
}

/** State "Check the new files' schemas". */
export async function checkSchemas(
  input: CheckSchemasInput,
  deps: Deps,
  log: Log,
  budgetMs = DRIFT_READ_BUDGET_MS,
): Promise<SchemaDrift> {
  const dataset = datasetNamed(deps.config, input.dataset);
  const store = artifactsOf(deps);
  const run = input.run as { skipCrawler?: boolean; crawl?: boolean };
  const ref = (input.debounce as { items?: PartitionListRef }).items as PartitionListRef;
  const partitions = await readPartitions(store, ref);
  const out = driftItems(store.bucket, input.executionArn);
  const port = deps.drift;
  if (!port) {
    // No reader wired (a stand-in without one): nothing is known, so nothing is skipped on a guess.
    const decision = run.skipCrawler
      ? { crawl: false, reason: 'the run input skips the crawler (skipCrawler)' }
      : {
          crawl: dataset.crawler.when !== 'never' || run.crawl === true,
          reason: 'no schema reader: fingerprints unknown',
        };
    return {
      items: { bucket: ref.bucket, key: ref.key, count: partitions.length },
      failures: await writeJson(store, out.failures, []),
      failedCount: 0,
      crawl: decision.crawl,
      crawlReason: decision.reason,
      files: 0,
      fingerprints: [],
      newFingerprints: [],
    };
  }

  const { reads, uncheckedPartitions } = await readAll(dataset, partitions, port, budgetMs);
  const unchecked = reads.filter((r) => r.unchecked).length;
  const mapping = dataset.mapping;
  const seenInRun = new Map<string, { schema: FileSchema; drift: Drift; firstFile: string }>();
  const breaking = new Map<number, Array<{ file: string; reason: string }>>();
  for (const read of reads) {
    if (!read.schema) continue;
    const fingerprint = fingerprintOf(read.schema, mapping);
    let known = seenInRun.get(fingerprint);
    if (!known)
      seenInRun.set(
        fingerprint,
        (known = { schema: read.schema, drift: classifyDrift(read.schema, mapping), firstFile: read.file }),
      );
    if (known.drift.class === 'breaking')
      breaking.set(read.partition, [
        ...(breaking.get(read.partition) ?? []),
        { file: shortName(dataset, read.file), reason: breakingReason(known.drift) },
      ]);
  }

  // Fingerprints: each new one recorded once (a conditional put); a retry of this execution finds its own.
  const stored = new Map((await port.fingerprints.list(dataset.name)).map((r) => [r.fingerprint, r]));
  const now = deps.clock.now().toISOString();
  const newInRun: FingerprintRecord[] = [];
  for (const [fingerprint, seen] of seenInRun) {
    let record = stored.get(fingerprint);
    if (!record) {
      record = await port.fingerprints.record({
        dataset: dataset.name,
        fingerprint,
        format: seen.schema.format,
        columns: seen.schema.columns.filter((c) => c.name !== ''),
        class: seen.drift.class,
        newColumns: seen.drift.newColumns,
        missingColumns: seen.drift.missingColumns,
        uncastableColumns: seen.drift.uncastableColumns.map((u) => `${u.column}: ${u.type}`),
        firstFile: seen.firstFile,
        firstRun: input.executionArn,
        firstSeenAt: now,
      });
      stored.set(fingerprint, record);
    }
    if (record.firstRun === input.executionArn) newInRun.push(record);
  }

  // Breaking drift: those partitions fail here, before any job run, and only they.
  const failures: JobRunResult[] = [...breaking].map(([index, files]) => {
    const [first] = files;
    const more = files.length > 1 ? ` (and ${files.length - 1} more file${files.length > 2 ? 's' : ''})` : '';
    return {
      partition: partitions[index]!,
      ok: false,
      state: SCHEMA_DRIFT_STATE,
      message: failureMessage(`${first!.file}: breaking schema drift: ${first!.reason}${more}`, MESSAGE_LIMIT).slice(
        0,
        MESSAGE_LIMIT,
      ),
    };
  });
  const remaining = partitions.filter((_, i) => !breaking.has(i));
  const items =
    failures.length === 0
      ? { bucket: ref.bucket, key: ref.key, count: partitions.length }
      : await writeJson(store, out.items, remaining);

  const fingerprints = [...seenInRun.keys()];
  const decision = crawlDecision(dataset, run, fingerprints, stored, port, deps.config.names.rawDatabase);
  const unreadable = reads.filter((r) => r.unreadable).map((r) => r.unreadable!);
  const newFingerprints = newInRun.map(infoOf);
  const info = newFingerprints.filter((f) => f.class === 'additive').map((f) => additiveLine(dataset.name, f));
  for (const line of info) log.info('additive schema drift', { line });
  if (failures.length > 0)
    log.warn('breaking schema drift: partitions failed before any job run', { failed: failures.length });
  const decided = await decision;
  const { crawl, reason } =
    (unchecked > 0 || uncheckedPartitions > 0) && !decided.crawl && !run.skipCrawler && dataset.crawler.when !== 'never'
      ? {
          crawl: true,
          reason: `${uncheckedPartitions + new Set(reads.filter((r) => r.unchecked).map((r) => r.partition)).size} partitions were not (fully) checked within the step's time budget`,
        }
      : decided;
  if (unchecked > 0 || uncheckedPartitions > 0)
    log.warn('some files were not checked within the time budget', { unchecked, uncheckedPartitions });
  log.info('schema check', { files: reads.length, fingerprints: fingerprints.length, crawl, crawlReason: reason });
  return {
    items,
    failures: await writeJson(store, out.failures, failures),
    failedCount: failures.length,
    crawl,
    crawlReason: reason,
    files: reads.length - unchecked,
    ...(unchecked > 0 || uncheckedPartitions > 0 ? { unchecked: unchecked, uncheckedPartitions } : {}),
    ...(unreadable.length > 0 ? { unreadable: unreadable.slice(0, 20) } : {}),
    fingerprints,
    newFingerprints: newFingerprints.slice(0, LISTED),
    ...(info.length > 0 ? { info: info.slice(0, LISTED) } : {}),
  };
}

async function crawlDecision(
  dataset: ResolvedDataset,
  run: { skipCrawler?: boolean; crawl?: boolean },
  fingerprints: string[],
  stored: Map<string, FingerprintRecord>,
  port: DriftPort,
  rawDatabase: string,
): Promise<{ crawl: boolean; reason: string }> {
  if (run.skipCrawler && !run.crawl) return { crawl: false, reason: 'the run input skips the crawler (skipCrawler)' };
  const needsTable = !run.crawl && dataset.crawler.when === 'schema-change';
  const rawTableExists = needsTable
    ? (await port.rawTable(rawDatabase, rawTableName(dataset.raw.prefix))) !== null
    : true;
  return crawlerDecision({
    when: dataset.crawler.when,
    fingerprints,
    seenFingerprints: new Set([...stored.values()].filter((r) => r.crawledAt !== undefined).map((r) => r.fingerprint)),
    rawTableExists,
    manualCrawl: run.crawl === true,
  });
}

/**
 * State "Classify the crawled table": the raw table the crawler wrote, classified against the mapping by the same
 * rules as the files, and what disagrees with the fingerprints' classification. The crawl is a check, not a cost.
 * Glue stores column names in lower case (https://docs.aws.amazon.com/lake-formation/latest/dg/notes-s3-catalog.html:
 * "AWS Glue and Lake Formation don't support mixed-case column names, and convert all column names to lowercase"),
 * so names are compared in lower case here. It then notes that a crawl learned the run's fingerprints.
 */
export async function checkCrawledSchema(
  input: CheckCrawledSchemaInput,
  deps: Deps,
  log: Log,
): Promise<CrawledSchemaCheck> {
  const dataset = datasetNamed(deps.config, input.dataset);
  const rawDatabase = deps.config.names.rawDatabase;
  const table = `${rawDatabase}.${rawTableName(dataset.raw.prefix)}`;
  const port = deps.drift;
  if (!port) return { table, class: 'no-table', newColumns: [], missingColumns: [], disagreements: [] };
  const columns = await port.rawTable(rawDatabase, rawTableName(dataset.raw.prefix));
  await port.fingerprints.markCrawled(dataset.name, input.drift.fingerprints, deps.clock.now().toISOString());
  if (columns === null) {
    const disagreements = input.drift.files > 0 ? ['the crawl wrote no raw table, yet the run read files'] : [];
    return { table, class: 'no-table', newColumns: [], missingColumns: [], disagreements };
  }
  const lower = (name: string) => name.toLowerCase();
  const partitionKeys = new Set(dataset.partitioning.keys.map((k) => lower(k.name)));
  const schema: FileSchema = {
    format: dataset.raw.format,
    columns: columns
      .filter((c) => !partitionKeys.has(lower(c.name)))
      .map((c) => ({ name: lower(c.name), ...(c.type ? { type: catalogColumnType(c.type) } : {}) })),
  };
  const mapping = dataset.mapping.map((m) => ({ ...m, source: lower(m.source) }));
  const drift = classifyDrift(schema, mapping);
  const known = await port.fingerprints.list(dataset.name);
  const disagreements = compareWithFingerprints(drift, input, known, lower);
  if (disagreements.length > 0) log.warn('the crawled table disagrees with the fingerprints', { disagreements });
  return {
    table,
    class: drift.class,
    newColumns: drift.newColumns,
    missingColumns: drift.missingColumns,
    disagreements: disagreements.slice(0, LISTED),
  };
}

/**
 * What the table says that the fingerprints did not, and the other way round. The table is the union of every file
 * the crawler sampled, so its columns are held against every fingerprint the dataset has, not only this run's.
 */
function compareWithFingerprints(
  table: Drift,
  input: CheckCrawledSchemaInput,
  known: FingerprintRecord[],
  lower: (name: string) => string,
): string[] {
  const out: string[] = [];
  const names = new Set(known.flatMap((r) => r.columns.map((c) => lower(c.name))));
  const uncastable = new Set(known.flatMap((r) => r.uncastableColumns.map((u) => lower(u.split(':')[0] ?? u))));
  const inRun = known.filter((r) => input.drift.fingerprints.includes(r.fingerprint));
  for (const column of table.newColumns)
    if (!names.has(column)) out.push(`the crawled table has column ${column}, which no file's fingerprint has`);
  for (const column of table.missingColumns)
    if (inRun.some((r) => r.columns.some((c) => lower(c.name) === column)))
      out.push(`the crawled table lacks mapped column ${column}, which this run's files have`);
  for (const { column, type } of table.uncastableColumns)
    if (!uncastable.has(column))
      out.push(
        `the crawled table says column ${column} is ${type}, which the contract cannot cast; the files' fingerprints did not show it`,
      );
  if (input.drift.failedCount > 0 && table.class !== 'breaking')
    out.push(
      `${input.drift.failedCount} partition(s) failed for breaking drift, but the crawled table has every mapped column (${table.class})`,
    );
  return out;
}
