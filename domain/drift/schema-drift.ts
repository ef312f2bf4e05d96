/**
 * Schema fingerprints of raw files, read cheaply, and drift classified against the dataset's mapping (issue 24).
 *
 * What is read (the same rules on the local engine and on AWS; only the byte reader differs):
 *   - CSV: the header line, from one ranged read of the file's head; names normalized as the cast contract matches
 *     them (UTF-8 BOM dropped, quotes removed, spaces and tabs around each name trimmed);
 *   - JSON lines: the keys of the complete lines in that head;
 *   - Parquet: the footer. The last 8 bytes are the footer's length (4 bytes, little-endian) and the magic `PAR1`;
 *     one more ranged read fetches the footer, which hyparquet (MIT) decodes.
 *     https://parquet.apache.org/docs/file-format/
 *
 * Classes, against the mapping (the contract's matching of names is exact, case-sensitive):
 *   - none: every mapped column is there (maybe reordered, maybe with the header differences the contract absorbs,
 *     maybe a Parquet type the contract still casts, such as int32 -> int64);
 *   - additive: also columns the mapping does not use. The run goes on and names them;
 *   - breaking: a mapped column is missing, or a mapped Parquet column is nested (struct, list, map), which the
 *     contract cannot cast from text. The affected partitions fail before any job run.
 * JSON objects are sparse: a mapped key absent from the first lines is not breaking (the job reads it as NULL
 * where it is absent), so JSON is never breaking by absence; a key seen that the mapping does not use is additive.
 * A CSV header's empty trailing name (a trailing delimiter) is no column.
 */
import { createHash } from 'node:crypto';
import { parquetMetadata, parquetSchema } from 'hyparquet';
import type { ColumnMapping } from '../../schemas/types.generated';
import { csvHeaderNames } from '../rows';

export { rawTableName } from './raw-table';

export type RawFormat = 'csv' | 'json' | 'parquet';

export interface RawColumn {
  name: string;
  /** Parquet only: the physical/logical type, or `struct`/`list`/`map` for nested columns. */
  type?: string;
}

export interface FileSchema {
  format: RawFormat;
  columns: RawColumn[];
}

export type DriftClass = 'none' | 'additive' | 'breaking';

export interface Drift {
  class: DriftClass;
  /** Columns the file has and the mapping does not use. */
  newColumns: string[];
  /** Mapped columns the file lacks (CSV, Parquet). */
  missingColumns: string[];
  /** Mapped Parquet columns of a type the contract cannot cast. */
  uncastableColumns: Array<{ column: string; type: string }>;
}

/** How many bytes of a file's head one ranged read takes for CSV and JSON lines. */
export const HEAD_BYTES = 64 * 1024;
/** Parquet's trailer: the footer length (uint32 LE) and the magic. */
export const PARQUET_TRAILER_BYTES = 8;
const PARQUET_MAGIC = 'PAR1';

/** A typed error naming the file: what could not be read as a schema, and why. */
export class UnreadableSchemaError extends Error {
  override readonly name = 'UnreadableSchemaError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

export function schemaOfCsvHead(file: string, head: Buffer): FileSchema {
  const end = head.indexOf(0x0a);
  if (end < 0 && head.length >= HEAD_BYTES)
    throw new UnreadableSchemaError(file, `no end of the header line in its first ${HEAD_BYTES} bytes`);
  const text = head.subarray(0, end >= 0 ? end : head.length).toString('utf8');
  if (text.includes('\uFFFD') || text.includes('\u0000'))
    throw new UnreadableSchemaError(file, 'the header line is not UTF-8 text (a binary file?)');
  return { format: 'csv', columns: csvHeaderNames(text).map((name) => ({ name })) };
}

export function schemaOfJsonLinesHead(file: string, head: Buffer): FileSchema {
  const text = head.toString('utf8');
  const complete = head.length >= HEAD_BYTES ? text.slice(0, text.lastIndexOf('\n') + 1) : text;
  const keys = new Set<string>();
  let lineNumber = 0;
  for (const line of complete.split('\n')) {
    lineNumber += 1;
    const trimmed = line.trim();
    if (trimmed === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      const hint = trimmed.startsWith('[') ? ' (a JSON array? sluice reads JSON lines: one object per line)' : '';
      throw new UnreadableSchemaError(file, `line ${lineNumber} is not a JSON object${hint}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new UnreadableSchemaError(file, `line ${lineNumber} is not a JSON object (sluice reads JSON lines)`);
    for (const key of Object.keys(value)) keys.add(key);
  }
  return { format: 'json', columns: [...keys].map((name) => ({ name })) };
}

/** The footer's length from a Parquet file's last 8 bytes. */
export function parquetFooterLength(file: string, trailer: Buffer): number {
  if (trailer.length !== PARQUET_TRAILER_BYTES || trailer.subarray(4).toString('latin1') !== PARQUET_MAGIC)
    throw new UnreadableSchemaError(file, 'not a Parquet file (no PAR1 magic at its end)');
  return trailer.readUInt32LE(0);
}

interface SchemaNode {
  element: { name: string; type?: string; converted_type?: string; logical_type?: { type: string } };
  children: SchemaNode[];
}

function parquetTypeOf(node: SchemaNode): string {
  const { element, children } = node;
  if (children.length > 0) {
    if (element.converted_type === 'LIST' || element.logical_type?.type === 'LIST') return 'list';
    if (element.converted_type?.startsWith('MAP') || element.logical_type?.type === 'MAP') return 'map';
    return 'struct';
  }
  const logical = element.logical_type?.type ?? element.converted_type;
  return logical ? `${element.type ?? ''}/${logical}` : (element.type ?? 'unknown');
}

/** The columns of a Parquet footer (the footer bytes followed by the 8-byte trailer). */
export function schemaOfParquetFooter(file: string, footerAndTrailer: Buffer): FileSchema {
  try {
    const bytes = footerAndTrailer.buffer.slice(
      footerAndTrailer.byteOffset,
      footerAndTrailer.byteOffset + footerAndTrailer.length,
    ) as ArrayBuffer;
    const tree = parquetSchema(parquetMetadata(bytes)) as unknown as SchemaNode;
    return {
      format: 'parquet',
      columns: tree.children.map((child) => ({ name: child.element.name, type: parquetTypeOf(child) })),
    };
  } catch (error) {
    throw new UnreadableSchemaError(file, `unreadable Parquet footer: ${(error as Error).message}`);
  }
}

/** A ranged reader of one object: `{ start, end }` inclusive, or `{ suffix }` for the last bytes. */
export type ReadRange = (range: { start: number; end: number } | { suffix: number }) => Promise<Buffer>;

/**
 * A file's schema with the fewest ranged reads: one for CSV and JSON lines, two for Parquet (trailer, then the
 * footer). Unreadable files raise UnreadableSchemaError naming the file.
 */
export async function readFileSchema(file: string, format: RawFormat, read: ReadRange): Promise<FileSchema> {
  if (format === 'parquet') {
    const length = parquetFooterLength(file, await read({ suffix: PARQUET_TRAILER_BYTES }));
    return schemaOfParquetFooter(file, await read({ suffix: length + PARQUET_TRAILER_BYTES }));
  }
  const head = await read({ start: 0, end: HEAD_BYTES - 1 });
  return format === 'csv' ? schemaOfCsvHead(file, head) : schemaOfJsonLinesHead(file, head);
}

/**
 * The schema's fingerprint: a hash of its column names (and Parquet types), in name order, so a reordering is
 * the same fingerprint. JSON objects are sparse, so a JSON sample counts every mapped key as present: a file whose
 * first lines happen to lack a mapped key has the fingerprint of one that has it, and only unmapped keys change it.
 * Sixteen hex digits are plenty to tell a dataset's schemas apart.
 */
export function fingerprintOf(schema: FileSchema, mapping: readonly ColumnMapping[]): string {
  const names = schema.columns.filter((column) => column.name !== '');
  const columns =
    schema.format === 'json'
      ? [...new Set([...mapping.map((column) => column.source), ...names.map((column) => column.name)])].map(
          (name): RawColumn => ({ name }),
        )
      : names;
  const canonical = columns
    .map((column) => (column.type ? `${column.name}:${column.type}` : column.name))
    .sort()
    .join('\n');
  return createHash('sha256').update(`${schema.format}\n${canonical}`).digest('hex').slice(0, 16);
}

const NESTED = new Set(['struct', 'list', 'map']);

export function classifyDrift(schema: FileSchema, mapping: readonly ColumnMapping[]): Drift {
  const mapped = new Set(mapping.map((column) => column.source));
  const present = new Map(schema.columns.map((column) => [column.name, column]));
  const newColumns = schema.columns.map((c) => c.name).filter((name) => name !== '' && !mapped.has(name));
  const missingColumns = schema.format === 'json' ? [] : [...mapped].filter((name) => !present.has(name));
  const uncastableColumns = schema.columns
    .filter((column) => mapped.has(column.name) && column.type !== undefined && NESTED.has(column.type))
    .map((column) => ({ column: column.name, type: column.type! }));
  const breaking = missingColumns.length > 0 || uncastableColumns.length > 0;
  return {
    class: breaking ? 'breaking' : newColumns.length > 0 ? 'additive' : 'none',
    newColumns,
    missingColumns,
    uncastableColumns,
  };
}

export type CrawlerWhen = 'schema-change' | 'every-run' | 'never';

export interface CrawlerDecision {
  crawl: boolean;
  reason: string;
}

/** Whether a run starts the crawler, and why (recorded with the run either way). */
export function crawlerDecision(input: {
  when: CrawlerWhen;
  fingerprints: readonly string[];
  seenFingerprints: ReadonlySet<string>;
  rawTableExists: boolean;
  manualCrawl?: boolean;
}): CrawlerDecision {
  if (input.manualCrawl) return { crawl: true, reason: 'the run input asks for a crawl (crawl: true)' };
  if (input.when === 'never') return { crawl: false, reason: 'crawler.when is never' };
  if (input.when === 'every-run') return { crawl: true, reason: 'crawler.when is every-run' };
  if (!input.rawTableExists) return { crawl: true, reason: 'the raw table does not exist yet' };
  const unseen = [...new Set(input.fingerprints)].filter((print) => !input.seenFingerprints.has(print));
  return unseen.length > 0
    ? { crawl: true, reason: `new schema fingerprint ${unseen.join(', ')}` }
    : { crawl: false, reason: 'no new schema fingerprint since the last crawl' };
}

/** One schema fingerprint of a dataset, as first seen (issue 24). Written once; only `crawledAt` is set later. */
export interface FingerprintRecord {
  dataset: string;
  fingerprint: string;
  format: RawFormat;
  columns: RawColumn[];
  class: DriftClass;
  newColumns: string[];
  missingColumns: string[];
  /** `column: type` of mapped Parquet columns the contract cannot cast. */
  uncastableColumns: string[];
  /** The first file seen with it (raw key). */
  firstFile: string;
  /** The execution that first saw it: a retry of that execution still treats it as new (idempotent). */
  firstRun: string;
  firstSeenAt: string;
  /** When a crawl that saw it succeeded; absent: no crawl has learned it yet. */
  crawledAt?: string;
}

/**
 * The dataset's fingerprints, a separate item kind from the run protocol's (never in its transactions): on AWS one
 * DynamoDB item per dataset and fingerprint, locally a JSON file under the lake.
 */
export interface FingerprintStore {
  list(dataset: string): Promise<FingerprintRecord[]>;
  /** Puts the record unless the dataset has this fingerprint already; returns the stored one either way. */
  record(record: FingerprintRecord): Promise<FingerprintRecord>;
  /** Notes a successful crawl that saw these fingerprints. Idempotent. */
  markCrawled(dataset: string, fingerprints: readonly string[], at: string): Promise<void>;
}

/** What the drift steps read: the partitions' files, their bytes by range, the crawled raw table, the fingerprints. */
export interface DriftPort {
  /** Keys of the data files under a raw prefix (no zero-byte objects, no `_`/`.` names, as the crawler excludes). */
  listFiles(bucket: string, prefix: string): Promise<string[]>;
  reader(bucket: string, key: string): ReadRange;
  /** The raw table the crawler wrote for the dataset (Glue GetTable; locally the local crawler's), or null. */
  rawTable(database: string, table: string): Promise<RawColumn[] | null>;
  fingerprints: FingerprintStore;
}

/** Names the crawler skips (the stack's crawler Exclusions `**\/_*`, `**\/.*`); the job skips them too. */
export const isHiddenFile = (key: string): boolean => /(^|\/)[_.][^/]*$/.test(key);

/**
 * A catalog column's type in the fingerprint's terms: nested types (Glue `struct<…>`, `array<…>`, `map<…>`;
 * DuckDB `STRUCT(…)`, `…[]`, `MAP(…)`) as `struct`/`list`/`map`, others as written.
 */
export function catalogColumnType(type: string): string {
  const t = type.trim().toLowerCase();
  if (t.startsWith('struct')) return 'struct';
  if (t.startsWith('array') || t.startsWith('list') || t.endsWith('[]')) return 'list';
  if (t.startsWith('map')) return 'map';
  return t;
}
