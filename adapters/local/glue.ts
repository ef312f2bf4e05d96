/**
 * Local stand-in for Glue jobs, on DuckDB (the crawler is in ./crawler.ts). Runs go on in the background like the
 * real service: start returns at once, status is polled by the same step code that polls AWS.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  badValueReason,
  columnSql,
  csvHeaderNames,
  duckdb,
  inputColumn,
  missingColumnPolicyOf,
  missingColumnReason,
  parseTargetType,
  readOptionsOf,
  type MissingColumnPolicy,
  type ReadOptions,
  jobRowSummary,
  SUMMARY_ARGUMENT,
} from '../../domain/rows';
import { type ResolvedConfig, type ResolvedDataset, parseRawKey } from '../../domain/config';
import { BATCH_ARGUMENT } from '../../domain/steps';
import { validate, type Clock, type JobPort, type JobRunInfo } from '../../domain/common';
import { glueJobStateChange, StateChangeEmitter } from './state-change-events';
import type {
  ColumnMapping,
  JobBatch,
  JobBatchPartition,
  JobBatchPartitionResult,
  JobBatchResult,
  JobRowSummary,
} from '../../schemas/types.generated';
import { quoteIdent, quoteString, type EngineSession, type LocalEngine } from './duckdb';
import type { LocalLake } from './lake';

const errorCode = (error: unknown): unknown => (error as NodeJS.ErrnoException | undefined)?.code;

export function listFiles(dir: string): string[] {
  let entries;
  try {
    // Directory entries say what is a file: no stat per entry (and no existsSync first: one call, not two).
    entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

export interface JobRunStats {
  rowsIn: number;
  rowsOut: number;
  badRows: number;
  rejectsFile?: string;
  /** Over the limit only: the file with the most bad rows (first by name on a tie) and its count. */
  worstFile?: { name: string; badRows: number };
  seconds: number;
}

/**
 * The failure of a partition over its bad-row limit, in the Glue script's words (convert_partition.py
 * too_many_bad_rows): the limit as a percentage with up to 6 significant digits (Python's %g), the worst file.
 */
export function tooManyBadRows(stats: Omit<JobRunStats, 'seconds'>, limit: number): string {
  const percent = String(Number((limit * 100).toPrecision(6)));
  const worst = stats.worstFile ? `, ${stats.worstFile.badRows} of them in ${stats.worstFile.name}` : '';
  return `${stats.badRows} of ${stats.rowsIn} rows could not be cast (limit ${percent}%)${worst}; rejected rows kept in ${stats.rejectsFile}`;
}

interface LocalRun extends JobRunInfo {
  jobName: string;
  stats?: JobRunStats;
  /** A batch run: each partition's stats by its run key. */
  batchStats?: Map<string, JobRunStats>;
  /** A batch run: how many of its partitions the batch statement converted (convertTogether). */
  convertedTogether?: number;
}

const PARTITION_ARGUMENT = '--sluice_partition';

/** The public view of a run: a shallow copy (arguments are frozen at start, so they need no deep clone). */
function infoOf({ jobName: _j, stats: _s, batchStats: _b, convertedTogether: _t, ...info }: LocalRun): JobRunInfo {
  return { ...info };
}

export class LocalJobs implements JobPort {
  private readonly runs: LocalRun[] = [];
  private readonly byId = new Map<string, LocalRun>();
  /** job name + partition argument -> its runs, oldest first: the start step's look-up without a scan. */
  private readonly byPartition = new Map<string, LocalRun[]>();
  private readonly byJob = new Map<string, LocalRun[]>();
  readonly pending = new Set<Promise<void>>();
  /** Issue 13: a `Glue Job State Change` event when a run ends, as Glue puts on EventBridge. */
  readonly stateChanges = new StateChangeEmitter();

  constructor(
    private readonly config: ResolvedConfig,
    private readonly lake: LocalLake,
    private readonly engine: LocalEngine,
    private readonly clock: Clock,
  ) {}

  statsFor(runId: string): JobRunStats | undefined {
    return this.byId.get(runId)?.stats;
  }

  /** A batch run's stats of one partition (by its run key). */
  batchStatsFor(runId: string, runKey: string): JobRunStats | undefined {
    return this.byId.get(runId)?.batchStats?.get(runKey);
  }

  /** A batch run's partitions converted by its one batch statement (the rest were converted one by one). */
  convertedTogetherIn(runId: string): number | undefined {
    return this.byId.get(runId)?.convertedTogether;
  }

  allStats(): Array<{ id: string; state: string; arguments: Record<string, string>; stats?: JobRunStats }> {
    return this.runs.map(({ id, state, arguments: args, stats }) =>
      stats ? { id, state, arguments: args, stats } : { id, state, arguments: args },
    );
  }

  async startJobRun(jobName: string, args: Record<string, string>): Promise<string> {
    const dataset = this.config.datasets.find((d) => d.job.name === jobName);
    if (!dataset) throw Object.assign(new Error(`no job ${jobName}`), { name: 'GlueEntityNotFoundError' });
    const run: LocalRun = {
      id: `jr_local_${String(this.runs.length + 1).padStart(5, '0')}`,
      jobName,
      state: 'RUNNING',
      startedAt: this.clock.now().toISOString(),
      arguments: Object.freeze({ ...args }),
    };
    this.remember(run);
    const work = (args[BATCH_ARGUMENT] !== undefined ? this.runBatch(dataset, run) : this.runOne(dataset, run))
      .catch((error: Error) => {
        run.state = 'FAILED';
        run.errorMessage = error.message;
      })
      .finally(() => this.pending.delete(work));
    this.pending.add(work);
    this.stateChanges.track(work, () => glueJobStateChange(jobName, run.id, run.state, this.clock.now()));
    return run.id;
  }

  /** One partition, the run's outcome is the partition's (the single-partition form, `partitionsPerRun: 1`). */
  private async runOne(dataset: ResolvedDataset, run: LocalRun): Promise<void> {
    const outcome = await this.convertOne(dataset, run.arguments, run.id);
    run.stats = outcome.stats;
    if (!outcome.ok) throw new Error(outcome.message);
    run.state = 'SUCCEEDED';
  }

  /**
   * One partition converted, judged against the bad-row limit and, when it passes, summarized (the summary is the
   * partition's last write, domain/rows/job-summary.ts). Errors propagate; over the limit is an outcome.
   */
  private async convertOne(
    dataset: ResolvedDataset,
    args: Readonly<Record<string, string>>,
    runId: string,
    tmpId = runId,
  ): Promise<
    { ok: true; stats: JobRunStats; summary: JobRowSummary } | { ok: false; stats: JobRunStats; message: string }
  > {
    const started = Date.now();
    const converted = await convertPartition(this.engine, this.lake, this.config, dataset, args, tmpId);
    const stats = { ...converted, seconds: (Date.now() - started) / 1000 };
    const fraction = stats.rowsIn === 0 ? 0 : stats.badRows / stats.rowsIn;
    if (fraction > dataset.job.maxBadRowsFraction)
      return { ok: false, stats, message: tooManyBadRows(stats, dataset.job.maxBadRowsFraction) };
    const summary = await this.writeRowSummary(runId, args, stats);
    return { ok: true, stats, summary };
  }

  /**
   * The batch form (docs/batches.md): the JobBatch named by --sluice_batch, each partition converted, counted and
   * summarized on its own, in order; one that fails is recorded with its reason and the others go on. The run
   * SUCCEEDS once its JobBatchResult is written; it fails only when it cannot read the batch or write the result.
   */
  private async runBatch(dataset: ResolvedDataset, run: LocalRun): Promise<void> {
    const batchUri = run.arguments[BATCH_ARGUMENT] ?? '';
    const batch = readBatchFile(this.lake.pathOf(batchUri), batchUri);
    if (batch.dataset !== dataset.name)
      throw new Error(`batch ${batchUri} is of dataset ${batch.dataset}, not of job ${run.jobName}'s ${dataset.name}`);
    const results: JobBatchPartitionResult[] = [];
    run.batchStats = new Map();
    const argsList = batch.partitions.map((p) => batchPartitionArguments(run.arguments, p));
    const started = Date.now();
    const together = await convertTogether(this.engine, this.lake, this.config, dataset, argsList, run.id);
    // The batch statement's time, shared among the partitions it converted.
    const sharedSeconds = together.size > 0 ? (Date.now() - started) / 1000 / together.size : 0;
    run.convertedTogether = together.size;
    for (const [i, p] of batch.partitions.entries()) {
      const args = argsList[i] ?? {};
      try {
        const converted = together.get(i);
        const outcome = converted
          ? await this.publishConverted(args, run.id, converted, sharedSeconds)
          : await this.convertOne(dataset, args, run.id, `${run.id}-${i}`);
        run.batchStats.set(p.runKey, outcome.stats);
        results.push(
          outcome.ok
            ? { partition: p.partition, runKey: p.runKey, ok: true, summary: outcome.summary }
            : { partition: p.partition, runKey: p.runKey, ok: false, message: outcome.message },
        );
      } catch (error) {
        results.push({ partition: p.partition, runKey: p.runKey, ok: false, message: (error as Error).message });
      }
    }
    const result: JobBatchResult = {
      version: 1,
      jobRunId: run.id,
      dataset: batch.dataset,
      batchKey: batch.batchKey,
      partitions: results,
    };
    await writeObject(this.lake.pathOf(batch.resultPath), JSON.stringify(result), run.id);
    await removeBatchOutput(this.lake.bucketDir(dataset.target.bucket), run.id);
    run.state = 'SUCCEEDED';
  }

  /**
   * A partition the batch statement converted (convertTogether): its output moved into place, then its row summary,
   * as a single run ends (all rows written, none bad, so within any bad-row limit).
   */
  private async publishConverted(
    args: Readonly<Record<string, string>>,
    runId: string,
    converted: ConvertedTogether,
    sharedSeconds: number,
  ): Promise<{ ok: true; stats: JobRunStats; summary: JobRowSummary }> {
    const started = Date.now();
    const folder = this.lake.pathOf(args['--sluice_target_path'] ?? '').replace(/\/$/, '');
    await mkdir(dirname(folder), { recursive: true });
    publishFolder(converted.output, folder);
    const counts = { rowsIn: converted.rowsIn, rowsOut: converted.rowsIn, badRows: 0 };
    const summary = await this.writeRowSummary(runId, args, counts);
    return { ok: true, stats: { ...counts, seconds: sharedSeconds + (Date.now() - started) / 1000 }, summary };
  }

  /** The row summary of a partition that passed, written where its arguments say (when they name a place). */
  private async writeRowSummary(
    runId: string,
    args: Readonly<Record<string, string>>,
    stats: Omit<JobRunStats, 'seconds'>,
  ): Promise<JobRowSummary> {
    const summary = jobRowSummary({
      jobRunId: runId,
      runKey: args['--sluice_run_key'] ?? '',
      dataset: args['--sluice_dataset'] ?? '',
      rowsIn: stats.rowsIn,
      rowsBad: stats.badRows,
      rejectsPath: stats.rejectsFile ? this.lake.uriOf(stats.rejectsFile) : null,
    });
    const uri = args[SUMMARY_ARGUMENT];
    if (uri !== undefined) await writeObject(this.lake.pathOf(uri), JSON.stringify(summary), runId);
    return summary;
  }

  private remember(run: LocalRun): void {
    this.runs.push(run);
    this.byId.set(run.id, run);
    const ofJob = this.byJob.get(run.jobName) ?? [];
    ofJob.push(run);
    this.byJob.set(run.jobName, ofJob);
    // A batch run has no one partition (its partitions are in its batch file): it is found by its run key.
    if (run.arguments[PARTITION_ARGUMENT] === undefined) return;
    const partition = `${run.jobName}\n${run.arguments[PARTITION_ARGUMENT]}`;
    this.byPartition.set(partition, [...(this.byPartition.get(partition) ?? []), run]);
  }

  async getJobRun(_jobName: string, runId: string): Promise<JobRunInfo> {
    const run = this.byId.get(runId);
    if (!run) throw Object.assign(new Error(`no job run ${runId}`), { name: 'GlueEntityNotFoundError' });
    return infoOf(run);
  }

  /** Runs of one partition, newest first, from an index (Glue has no such look-up; the AWS adapter lists). */
  async listJobRunsOfPartition(jobName: string, partitionArgument: string): Promise<JobRunInfo[]> {
    return (this.byPartition.get(`${jobName}\n${partitionArgument}`) ?? []).map(infoOf).reverse();
  }

  /** Newest first; walks back from the end, so the cost is the limit, never the store's size. */
  async listRecentJobRuns(jobName: string, limit: number): Promise<JobRunInfo[]> {
    const ofJob = this.byJob.get(jobName) ?? [];
    const recent: JobRunInfo[] = [];
    for (let i = ofJob.length - 1; i >= 0 && recent.length < limit; i -= 1) recent.push(infoOf(ofJob[i] as LocalRun));
    return recent;
  }
}

/**
 * Written then renamed, as an S3 PutObject: a reader never sees half an object. Through libuv's thread pool, not
 * the one Node thread: creating a file in a folder of many can take a millisecond of kernel time (ext4 inode
 * allocation after many deletions; issue 14's profile at 1,000 partitions).
 */
async function writeObject(path: string, body: string, writer: string): Promise<void> {
  const temporary = join(dirname(path), `.${writer}.tmp`);
  try {
    await writeFile(temporary, body);
  } catch (error) {
    // The folder is made on the first object only, not checked with one more call on every run.
    if (errorCode(error) !== 'ENOENT') throw error;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temporary, body);
  }
  await rename(temporary, path);
}

/** The JobBatch file, checked against its schema; unreadable or invalid fails the run, naming the file. */
function readBatchFile(path: string, uri: string): JobBatch {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`batch ${uri} cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`batch ${uri} is not JSON: ${(error as Error).message}`);
  }
  return validate<JobBatch>('JobBatch', parsed, `batch ${uri}`);
}

/** A batch partition's arguments: the run's, with the partition's own place, run key and summary location. */
export function batchPartitionArguments(
  runArguments: Readonly<Record<string, string>>,
  p: JobBatchPartition,
): Record<string, string> {
  const { [BATCH_ARGUMENT]: _batch, [SUMMARY_ARGUMENT]: _summary, ...rest } = runArguments;
  return {
    ...rest,
    '--sluice_partition': JSON.stringify(p.partition),
    '--sluice_source_path': p.sourcePath,
    '--sluice_target_path': p.targetPath,
    '--sluice_run_key': p.runKey,
    ...(p.summaryPath !== undefined ? { [SUMMARY_ARGUMENT]: p.summaryPath } : {}),
  };
}

/** A raw file of the partition, with the column names it declares (CSV header, Parquet schema). */
interface SourceFile {
  path: string;
  name: string;
  /** CSV: normalized header names in order; Parquet: column name -> DuckDB type. JSON: undefined (per line). */
  columns?: string[];
  types?: string[];
  /** CSV: the rows, when its line breaks count them exactly (see plainRowsOf); otherwise DuckDB counts. */
  rows?: number;
}

const BOM = '\uFEFF';

/** The header line: read in small chunks until its end (a header rarely needs more than the first one). */
function firstLineOf(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    for (let position = 0; position < 1 << 20;) {
      const chunk = Buffer.alloc(8192);
      const read = readSync(fd, chunk, 0, chunk.length, position);
      const end = chunk.subarray(0, read).indexOf(10);
      chunks.push(chunk.subarray(0, end >= 0 ? end : read));
      if (end >= 0 || read < chunk.length) break;
      position += read;
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Larger files are counted by DuckDB (the line count reads the whole file into memory). */
const LINE_COUNT_MAX_BYTES = 256 * 1024 * 1024;
const [QUOTE, CR, LF] = [0x22, 0x0d, 0x0a];

/**
 * The rows of a CSV file's bytes, counted by its line breaks, when that count is exact: no quote character (so no
 * field spans lines), no carriage return, no blank line. Then each line after the header is one row for DuckDB's
 * reader too. Otherwise undefined, and DuckDB counts. The COPYs' own counts check it after.
 */
function plainRowsOf(bytes: Buffer): number | undefined {
  if (bytes.includes(QUOTE) || bytes.includes(CR) || bytes.includes('\n\n') || bytes[0] === LF) return undefined;
  let lines = 0;
  for (let at = bytes.indexOf(LF); at !== -1; at = bytes.indexOf(LF, at + 1)) lines += 1;
  if (bytes.length > 0 && bytes[bytes.length - 1] !== LF) lines += 1; // a last line without its line break
  return Math.max(0, lines - 1); // the header
}

/**
 * A CSV file's header and, when its line breaks count its rows exactly (plainRowsOf; never for a very large file),
 * the rows: one read of the file for both. Synchronous on purpose: the file is in the page cache, and the promise
 * API waits behind DuckDB's statements in libuv's thread pool.
 */
export function inspectCsv(path: string): { columns: string[]; rows?: number } {
  if (statSync(path).size > LINE_COUNT_MAX_BYTES) {
    assertText(readHead(path), path);
    return { columns: csvHeaderNames(firstLineOf(path)) };
  }
  const bytes = readFileSync(path);
  assertText(bytes.subarray(0, TEXT_CHECK_BYTES), path);
  const end = bytes.indexOf(LF);
  const columns = csvHeaderNames(bytes.subarray(0, end >= 0 ? end : bytes.length).toString('utf8'));
  const rows = plainRowsOf(bytes);
  return rows === undefined ? { columns } : { columns, rows };
}

/** Word for word the Glue script's NOT_JSON_LINES (convert_partition.py). */
const NOT_JSON_LINES =
  'not valid JSON; sluice reads JSON lines (one JSON object per line), not JSON arrays or pretty-printed JSON';

/** The bytes the text check reads: what the Glue script reads for a CSV header (convert_partition.py HEADER_BYTES). */
const TEXT_CHECK_BYTES = 65536;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A file's first bytes must be UTF-8 text with no NUL byte, or the file fails its partition naming it: a binary file
 * read as CSV would otherwise fail with the parser's own words, which differ between engines (issue 25). A character
 * cut by the end of the read is not held against the file (the last 3 bytes of a full read are not checked). Same rule as the Glue script's text_head.
 */
export function isTextHead(head: Buffer): boolean {
  if (head.includes(0)) return false;
  for (let cut = 0; cut < 4; cut += 1) {
    try {
      UTF8.decode(head.subarray(0, head.length - cut));
      return true;
    } catch {
      if (head.length < TEXT_CHECK_BYTES) return false;
    }
  }
  return false;
}

function assertText(head: Buffer, path: string): void {
  if (!isTextHead(head)) throw new Error(`${basename(path)}: not UTF-8 text (a CSV file must be UTF-8 text)`);
}

function readHead(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(TEXT_CHECK_BYTES);
    return head.subarray(0, readSync(fd, head, 0, head.length, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * The first line of a JSON-lines file that is not JSON (blank lines counted, not checked), for the failure message;
 * read only when DuckDB has found one.
 */
function firstInvalidJsonLine(path: string): number | undefined {
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = (lines[i] ?? '').trim();
    if (line === '') continue;
    try {
      JSON.parse(line);
    } catch {
      return i + 1;
    }
  }
  return undefined;
}

/** A file with no bytes (or only blank space) holds no header and no rows: it is skipped, never an error. */
export function holdsData(file: string): boolean {
  const { size } = statSync(file);
  if (size === 0) return false;
  if (size > 64) return true;
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(size);
    readSync(fd, buffer, 0, size, 0);
    return buffer.toString('utf8').replace(BOM, '').trim() !== '';
  } finally {
    closeSync(fd);
  }
}

const jsonMember = (name: string): string => {
  if (/["\\]/.test(name)) throw new Error(`JSON member name ${JSON.stringify(name)} cannot be addressed`);
  return quoteString(`$."${name}"`);
};

/**
 * SQL of the partition's rows as text: __file, v0..vN (one per mapping), plus __object/p0..pN for JSON. For counting
 * (`values: false`) only __file, and for JSON __object/p0..pN: job statements run without the optimizer (see
 * JOB_STATEMENTS_UNOPTIMIZED), so a column the count does not need would still be read and converted.
 */
function sourceSql(
  format: 'csv' | 'json' | 'parquet',
  files: SourceFile[],
  mapping: ColumnMapping[],
  { values = true } = {},
): string {
  if (format === 'json') {
    const list = `[${files.map((f) => quoteString(f.path)).join(', ')}]`;
    const columns = mapping.flatMap((m, i) => [
      ...(values ? [`json ->> ${jsonMember(m.source)} AS ${inputColumn(i)}`] : []),
      `json_type(json, ${jsonMember(m.source)}) IS NOT NULL AS p${i}`,
    ]);
    return `SELECT filename AS __file, json_type(json) = 'OBJECT' AS __object, ${columns.join(', ')} FROM read_ndjson_objects(${list}, filename = true)`;
  }
  // One reader per distinct header (or Parquet schema): each file is read by position under names we choose,
  // so a file's own header text (BOM, quotes, spaces, order) never reaches DuckDB's sniffer or union_by_name.
  const groups = new Map<string, SourceFile[]>();
  for (const file of files) {
    const signature = JSON.stringify([file.columns, file.types]);
    groups.set(signature, [...(groups.get(signature) ?? []), file]);
  }
  return [...groups.values()]
    .map((group) => {
      const { columns = [] } = group[0] ?? {};
      const list = `[${group.map((f) => quoteString(f.path)).join(', ')}]`;
      const texts = mapping.map((m, i) => {
        const at = columns.indexOf(m.source);
        const text =
          at < 0 ? 'NULL::VARCHAR' : format === 'csv' ? `c${at}` : `CAST(${quoteIdent(m.source)} AS VARCHAR)`;
        return `${text} AS ${inputColumn(i)}`;
      });
      const reader =
        format === 'csv'
          ? `read_csv(${list}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = {${columns.map((_, i) => `'c${i}': 'VARCHAR'`).join(', ')}}, filename = true)`
          : `read_parquet(${list}, filename = true)`;
      return `SELECT filename AS __file${values ? `, ${texts.join(', ')}` : ''} FROM ${reader}`;
    })
    .join('\nUNION ALL\n');
}

async function describeFiles(
  db: EngineSession,
  format: 'csv' | 'json' | 'parquet',
  paths: string[],
): Promise<SourceFile[]> {
  if (format === 'csv') return paths.map((path) => ({ path, name: basename(path), ...inspectCsv(path) }));
  const files: SourceFile[] = paths.map((path) => ({ path, name: basename(path) }));
  if (format === 'parquet')
    for (const f of files) {
      const described = await db.rows(`DESCRIBE SELECT * FROM read_parquet(${quoteString(f.path)})`);
      f.columns = described.map((c) => String(c.column_name));
      f.types = described.map((c) => String(c.column_type));
    }
  return files;
}

/**
 * An empty folder at `dir` (a run's temporary output). It is new in the usual case, so it is made first and only
 * what is in the way is handled after: a missing parent folder, or the leftover of an interrupted run (local run
 * ids restart with each process).
 */
async function makeEmptyFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir);
    return;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') await mkdir(dirname(dir), { recursive: true });
    else if (errorCode(error) === 'EEXIST') await rm(dir, { recursive: true, force: true });
    else throw error;
  }
  await mkdir(dir);
}

/**
 * Moves a finished output folder into place by one rename (its sibling, so same parent and file system). A previous
 * version of the partition is removed first, only when there is one: a rename onto a folder that holds files fails.
 */
function publishFolder(tmp: string, folder: string): void {
  try {
    renameSync(tmp, folder);
    return;
  } catch (error) {
    if (!['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR'].includes(String(errorCode(error)))) throw error;
  }
  rmSync(folder, { recursive: true, force: true });
  renameSync(tmp, folder);
}

/**
 * The cast contract's DuckDB expressions for a mapping, rendered once per mapping text: every partition of a
 * dataset has the same, and rendering them is a third of a millisecond of the one Node thread (issue 14).
 */
const contractSqlByMapping = new Map<string, ReturnType<typeof columnSql>[]>();

function contractSqlOf(
  mappingText: string,
  mapping: ColumnMapping[],
  options: ReadOptions,
): ReturnType<typeof columnSql>[] {
  const key = `${mappingText}\n${JSON.stringify(options)}`;
  let sql = contractSqlByMapping.get(key);
  if (!sql) {
    sql = mapping.map((m, i) => columnSql(duckdb, parseTargetType(m.type), inputColumn(i), options));
    if (contractSqlByMapping.size >= 64) contractSqlByMapping.clear();
    contractSqlByMapping.set(key, sql);
  }
  return sql;
}

/** A partition's data files: those its raw key layout accepts and that hold data (empty files are skipped). */
function partitionFiles(
  lake: LocalLake,
  config: ResolvedConfig,
  dataset: ResolvedDataset,
  sourceUri: string,
): string[] {
  const rawRoot = lake.bucketDir(dataset.raw.bucket);
  return listFiles(lake.pathOf(sourceUri))
    .filter((f) => parseRawKey(config, f.slice(rawRoot.length + 1)).ok)
    .filter(holdsData);
}

/**
 * The cast contract over rows of text, layered so that each value is trimmed once (t<i>) and cast once (x<i>);
 * validity is read off both. Each layer names the columns it passes on (`keep`), the fewer the better: a
 * partition's statement is mostly setup. Nested subqueries, not CTEs: the same plan, bound a little faster.
 */
function castLayers(sql: ReturnType<typeof columnSql>[], mapping: ColumnMapping[], isJson: boolean) {
  const trimmed = mapping.map((_, i) => `${sql[i]?.trimmed} AS t${i}`).join(', ');
  const typed = mapping.map((_, i) => `${sql[i]?.valueOf(`t${i}`)} AS x${i}`).join(', ');
  const valid = (i: number) => sql[i]?.validOf(`t${i}`, `x${i}`) ?? 'TRUE';
  const allValid = [...(isJson ? ['__object'] : []), ...mapping.map((_, i) => valid(i))].join(' AND ');
  const ts = mapping.map((_, i) => `t${i}`);
  const typedRows = (source: string, keep: string[]) =>
    `(SELECT ${[...keep, ...ts].join(', ')}, ${typed} FROM (SELECT ${[...keep, trimmed].join(', ')} FROM (${source})))`;
  return { valid, allValid, typedRows };
}

/** Where the batch statement writes (beside the datasets' folders, never inside one), per job run. */
const batchOutputOf = (targetRoot: string, runId: string): string => join(targetRoot, '_sluice_tmp', runId);

/** The batch statement's leftovers (the outputs of partitions it did not keep), and its folder once empty. */
async function removeBatchOutput(targetRoot: string, runId: string): Promise<void> {
  const tmp = batchOutputOf(targetRoot, runId);
  await rm(tmp, { recursive: true, force: true });
  try {
    rmdirSync(dirname(tmp));
  } catch {
    // another run's output is still there, or it was never made
  }
}

/**
 * The folder holds exactly this one file. DuckDB keeps at most `partitioned_write_max_open_files` partition files
 * open and starts a new file for a partition whose file it had closed, so a partition can come out in two files;
 * a single run writes one, so such a partition is left to its own run.
 */
function onlyFileIs(folder: string, name: string): boolean {
  try {
    const entries = readdirSync(folder);
    return entries.length === 1 && entries[0] === name;
  } catch {
    return false;
  }
}

/** A batch partition that the batch statement converted cleanly: every row read was written, in its own folder. */
export interface ConvertedTogether {
  rowsIn: number;
  /** The partition's finished output folder (a temporary one), to be moved into place. */
  output: string;
}

/**
 * The partitions of a batch that can be converted together, converted by one statement (issue 25's speed: a
 * partition's own statement is mostly setup, so 365 small partitions cost 365 setups): one COPY … PARTITION_BY over
 * every file of those partitions, each row tagged with its partition's index, into a temporary folder per partition.
 *
 * Only what is certain to come out as a single run of the partition is taken from it:
 * - candidates: CSV partitions whose files are all UTF-8 text, counted exactly by their line breaks (inspectCsv),
 *   hold at least one row, and have every mapped column (no missing-column policy applies);
 * - kept: a partition whose every row read was written (COPY RETURN_STATS gives each partition file's row count).
 *   Its output is then what its own COPY writes: the same casts and filter over the same rows, no rejects, no bad
 *   rows. A partition with a bad row (it needs its rejects file and maybe the limit's failure) is left out.
 * Everything left out, and the whole batch when the statement fails (a ragged row or unreadable file in any one
 * partition fails it), is converted partition by partition by the caller, so its result and message are a single
 * run's. The returned map holds the kept partitions by their index in `argsList`.
 */
export async function convertTogether(
  engine: LocalEngine,
  lake: LocalLake,
  config: ResolvedConfig,
  dataset: ResolvedDataset,
  argsList: ReadonlyArray<Readonly<Record<string, string>>>,
  runId: string,
): Promise<Map<number, ConvertedTogether>> {
  const kept = new Map<number, ConvertedTogether>();
  const first = argsList[0];
  if (dataset.raw.format !== 'csv' || argsList.length < 2 || !first) return kept;
  const mappingText = first['--sluice_mapping'] ?? '[]';
  const mapping = JSON.parse(mappingText) as ColumnMapping[];
  const targetRoot = lake.bucketDir(dataset.target.bucket);
  const candidates: Array<{ index: number; files: SourceFile[]; rowsIn: number }> = [];
  for (const [index, args] of argsList.entries()) {
    // Every partition of a batch shares the run's mapping; one that does not is converted on its own.
    if ((args['--sluice_mapping'] ?? '[]') !== mappingText) continue;
    if (!lake.pathOf(args['--sluice_target_path'] ?? '').startsWith(`${targetRoot}/`)) continue;
    let files: SourceFile[];
    try {
      files = partitionFiles(lake, config, dataset, args['--sluice_source_path'] ?? '').map((path) => ({
        path,
        name: basename(path),
        ...inspectCsv(path),
      }));
    } catch {
      continue; // its own run says why
    }
    const complete = files.every((f) => f.rows !== undefined && mapping.every((m) => f.columns?.includes(m.source)));
    const rowsIn = files.reduce((sum, f) => sum + (f.rows ?? 0), 0);
    if (files.length > 0 && complete && rowsIn > 0) candidates.push({ index, files, rowsIn });
  }
  const sql = contractSqlOf(mappingText, mapping, readOptionsOf(dataset));
  const layers = castLayers(sql, mapping, false);
  const tmp = batchOutputOf(targetRoot, runId);
  let written: Record<string, unknown>[] | undefined;
  // A read error names its file: that partition is left to its own run and the rest tried again, a few times.
  for (let attempt = 0; attempt < 3 && !written && candidates.length >= 2; attempt += 1) {
    const tagOf = candidates.flatMap((c) => c.files.map((f) => `(${quoteString(f.path)}, ${c.index})`));
    // The tags are the join's build side (DuckDB builds on the right; job statements run unoptimized, as written).
    const source = `SELECT * FROM (${sourceSql(
      'csv',
      candidates.flatMap((c) => c.files),
      mapping,
    )}) JOIN (VALUES ${tagOf.join(', ')}) AS __tags(__tag_file, __p) ON __file = __tag_file`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(dirname(tmp), { recursive: true });
    try {
      written = await engine.jobSession((db) =>
        db.rows(
          `COPY (SELECT ${mapping.map((m, i) => `x${i} AS ${quoteIdent(m.target)}`).join(', ')}, __p FROM ${layers.typedRows(source, ['__p'])} WHERE ${layers.allValid}) TO ${quoteString(tmp)} (FORMAT parquet, PARTITION_BY (__p), FILENAME_PATTERN 'part-0000{i}', RETURN_STATS)`,
        ),
      );
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      const file = /\n\s*file = (.+)\n/.exec((error as Error).message)?.[1]?.trim();
      const at = candidates.findIndex((c) => c.files.some((f) => f.path === file));
      if (at < 0) return kept; // each partition on its own: the one at fault fails with a single run's message
      candidates.splice(at, 1);
    }
  }
  if (!written) return kept;
  const countOf = new Map<number, number>();
  for (const file of written) {
    const keys = file.partition_keys as Array<{ key: string; value: string }> | undefined;
    const index = Number(keys?.find((k) => k.key === '__p')?.value);
    countOf.set(index, (countOf.get(index) ?? 0) + Number(file.count));
  }
  for (const c of candidates) {
    const output = join(tmp, `__p=${c.index}`);
    // One file per partition folder, named as a single run names it; anything else is left to a single run.
    if (countOf.get(c.index) === c.rowsIn && onlyFileIs(output, 'part-00000.parquet'))
      kept.set(c.index, { rowsIn: c.rowsIn, output });
  }
  return kept;
}

/**
 * One partition raw -> Parquet, applying the cast contract (domain/rows/cast-contract.ts), with no temporary table:
 * 1. a count per file without casts (and, for JSON, which members each file has) — cheap, it reads no values;
 * 2. the COPY of the good rows, each value trimmed once, cast once, and checked from its value; DuckDB returns the
 *    rows written, so bad rows = rows in - rows written;
 * 3. only when there are bad rows, a third scan writes them, every one, with its reasons and file.
 * Output is written to a temporary folder and renamed into place, so a reader never sees half a partition.
 */
export async function convertPartition(
  engine: LocalEngine,
  lake: LocalLake,
  config: ResolvedConfig,
  dataset: ResolvedDataset,
  args: Record<string, string>,
  runId: string,
): Promise<Omit<JobRunStats, 'seconds'>> {
  const target = lake.pathOf(args['--sluice_target_path'] ?? '');
  const mapping = JSON.parse(args['--sluice_mapping'] ?? '[]') as ColumnMapping[];
  const policy = (args['--sluice_missing_columns'] ?? missingColumnPolicyOf(dataset)) as MissingColumnPolicy;
  const format = dataset.raw.format;
  const paths = partitionFiles(lake, config, dataset, args['--sluice_source_path'] ?? '');
  if (paths.length === 0) throw new Error(`no data files under ${args['--sluice_source_path']}`);
  const sql = contractSqlOf(args['--sluice_mapping'] ?? '[]', mapping, readOptionsOf(dataset));
  return engine.jobSession(async (db) => {
    try {
      const files = await describeFiles(db, format, paths);
      const isJson = format === 'json';
      const source = sourceSql(format, files, mapping);
      const layers = castLayers(sql, mapping, isJson);
      const { valid, allValid } = layers;
      const typedRows = (keep: string[]) => layers.typedRows(source, keep);
      const presence = isJson
        ? `, count(*) FILTER (WHERE __object) AS objects${mapping.map((_, i) => `, count(*) FILTER (WHERE p${i}) AS p${i}`).join('')}`
        : '';
      // Plain CSV files are counted by their line breaks, which saves a scan per partition (see plainRowsOf).
      const counted: Record<string, unknown>[] =
        format === 'csv' && files.every((f) => f.rows !== undefined)
          ? files.map((f) => ({ __file: f.path, total: f.rows }))
          : await db.rows(
              `SELECT __file, count(*) AS total${presence} FROM (${sourceSql(format, files, mapping, { values: false })}) GROUP BY __file`,
            );
      // A file that lacks a mapped column: CSV/Parquet by its header/schema, JSON when no line has the member.
      const lacking = new Map<string, string[]>();
      for (const f of files) {
        const c = counted.find((r) => r.__file === f.path);
        const missing = mapping
          .filter((m, i) =>
            isJson
              ? c !== undefined && Number(c.objects) > 0 && Number(c[`p${i}`]) === 0
              : !f.columns?.includes(m.source),
          )
          .map((m) => m.source);
        if (missing.length > 0) lacking.set(f.path, missing);
      }
      if (lacking.size > 0 && policy === 'fail')
        throw new Error(
          `missing columns: ${[...lacking].map(([path, columns]) => missingColumnReason(basename(path), columns)).join('; ')}`,
        );
      const rowsIn = counted.reduce((sum, r) => sum + Number(r.total), 0);
      const inLacking = lacking.size > 0 ? `__file IN (${[...lacking.keys()].map(quoteString).join(', ')})` : 'FALSE';
      // What the good rows' filter reads besides the values: the file (when some lack a column), JSON's object flag.
      const passed = [...(lacking.size > 0 ? ['__file'] : []), ...(isJson ? ['__object'] : [])];
      const folder = target.replace(/\/$/, '');
      const tmp = `${folder}.tmp-${runId}`;
      await makeEmptyFolder(tmp);
      try {
        const rowsOut = await db.copy(
          `COPY (SELECT ${mapping.map((m, i) => `x${i} AS ${quoteIdent(m.target)}`).join(', ')} FROM ${typedRows(passed)} WHERE (${allValid}) AND NOT ${inLacking}) TO ${quoteString(join(tmp, 'part-00000.parquet'))} (FORMAT parquet)`,
        );
        let badRows = rowsIn - rowsOut;
        let rejectsFile: string | undefined;
        if (badRows < 0) throw new Error(`row accounting: ${rowsOut} rows written from ${rowsIn} rows read`);
        if (badRows > 0) {
          rejectsFile = join(
            lake.bucketDir(dataset.target.bucket),
            '_rejected',
            dataset.name,
            `${args['--sluice_run_key'] ?? runId}.csv`,
          );
          mkdirSync(dirname(rejectsFile), { recursive: true });
          const lackReason = `CASE ${[...lacking].map(([path, columns]) => `WHEN __file = ${quoteString(path)} THEN ${quoteString(missingColumnReason(basename(path), columns))}`).join(' ')} END`;
          const reasons = [
            ...(lacking.size > 0 ? [lackReason] : []),
            ...(isJson ? [`CASE WHEN NOT __object THEN 'line is not a JSON object' END`] : []),
            ...mapping.map((m, i) => `CASE WHEN NOT ${valid(i)} THEN ${quoteString(badValueReason(m))} END`),
          ];
          const rawValues = mapping.map((m, i) => `${inputColumn(i)} AS ${quoteIdent(m.source)}`);
          // The two COPYs' conditions are complements: every row read is in exactly one of them.
          // A rejected row keeps its file and raw values, besides what the filter reads.
          const rejectsRead = ['__file', ...(isJson ? ['__object'] : []), ...mapping.map((_, i) => inputColumn(i))];
          badRows = await db.copy(
            `COPY (SELECT concat_ws(', ', ${reasons.join(', ')}) AS sluice_reject_reason, regexp_extract(__file, '[^/]+$', 0) AS sluice_source_file, ${rawValues.join(', ')} FROM ${typedRows(rejectsRead)} WHERE NOT (${allValid}) OR ${inLacking}) TO ${quoteString(rejectsFile)} (HEADER, DELIMITER ',')`,
          );
          if (rowsOut + badRows !== rowsIn)
            throw new Error(`row accounting: ${rowsIn} rows read, ${rowsOut} written and ${badRows} rejected`);
        }
        const fraction = rowsIn === 0 ? 0 : badRows / rowsIn;
        if (fraction <= dataset.job.maxBadRowsFraction) {
          publishFolder(tmp, folder);
          return { rowsIn, rowsOut, badRows, ...(rejectsFile ? { rejectsFile } : {}) };
        }
        rmSync(tmp, { recursive: true, force: true });
        // The failure path only: which file the bad rows came from, read back from the rejects just written.
        const [worst] = await db.rows(
          `SELECT sluice_source_file AS name, count(*) AS bad FROM read_csv(${quoteString(rejectsFile ?? '')}, header = true, all_varchar = true) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`,
        );
        const worstFile = worst ? { name: String(worst.name), badRows: Number(worst.bad) } : undefined;
        return {
          rowsIn,
          rowsOut,
          badRows,
          ...(rejectsFile ? { rejectsFile } : {}),
          ...(worstFile ? { worstFile } : {}),
        };
      } catch (error) {
        // Nothing half-made stays behind: the temporary output of a run that failed is removed.
        await rm(tmp, { recursive: true, force: true });
        throw error;
      }
    } catch (error) {
      throw readFailure(error as Error);
    }
  });
}

/**
 * A DuckDB read error as sluice words it (issue 25): the file (and line, when DuckDB gives one) first, then the
 * cause. A row whose field count is not the header's gets the Glue script's words (convert_partition.py
 * ragged_row_message), so both engines fail that partition with the same text. Errors that name no file pass as
 * they are.
 */
export function readFailure(error: Error): Error {
  const json = /Malformed JSON in file "(.+?)", at byte/.exec(error.message)?.[1];
  if (json) {
    const line =
      existsSync(json) && statSync(json).size <= LINE_COUNT_MAX_BYTES ? firstInvalidJsonLine(json) : undefined;
    const where = line === undefined ? basename(json) : `${basename(json)} line ${line}`;
    return new Error(`${where}: ${NOT_JSON_LINES}`);
  }
  const file = /\n\s*file = (.+)\n/.exec(error.message)?.[1];
  if (!file) return error;
  const name = basename(file.trim());
  const line = /CSV Error on Line: (\d+)/.exec(error.message)?.[1];
  const width = /Expected Number of Columns: (\d+)/.exec(error.message)?.[1];
  const where = line ? `${name} line ${line}` : name;
  if (line && width) return new Error(`${where}: the row does not have the header's ${width} fields`);
  const cause = (error.message.split('\n')[0] ?? '').replace(/^Invalid Input Error: /, '');
  return new Error(`${where}: ${cause}`);
}
