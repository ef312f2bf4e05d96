/**
 * Local stand-ins for the Glue crawler and Glue jobs, on DuckDB. They run in the background like the real
 * services: start returns at once, status is polled by the same step code that polls AWS.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { ResolvedConfig, ResolvedDataset } from '../../domain/config';
import { parseRawKey, partitionKey } from '../../domain/partitions';
import type { Clock, CrawlerPort, CrawlerStatus, JobPort, JobRunInfo } from '../../domain/ports';
import type { ColumnMapping } from '../../schemas/types.generated';
import { duckType, quoteIdent, quoteString, readerFor, type LocalEngine } from './duckdb';
import type { LocalLake } from './lake';

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** Partitions whose first file the local crawler reads to infer the schema. */
const CRAWL_SAMPLE_PARTITIONS = 5;

export class LocalCrawlers implements CrawlerPort {
  private readonly status = new Map<string, CrawlerStatus>();
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly config: ResolvedConfig,
    private readonly lake: LocalLake,
    private readonly engine: LocalEngine,
    private readonly clock: Clock,
  ) {}

  async startCrawler(name: string): Promise<'started' | 'already-running'> {
    const current = this.status.get(name) ?? { state: 'READY' };
    if (current.state !== 'READY') return 'already-running';
    const dataset = this.config.datasets.find((d) => d.crawler.name === name);
    if (!dataset) throw Object.assign(new Error(`no crawler ${name}`), { name: 'GlueEntityNotFoundError' });
    const startedAt = this.clock.now().toISOString();
    this.status.set(name, { ...current, state: 'RUNNING', currentCrawlStartedAt: startedAt });
    const crawl = this.crawl(dataset)
      .then(() => this.status.set(name, { state: 'READY', lastCrawl: { status: 'SUCCEEDED', startedAt } }))
      .catch((error: Error) =>
        this.status.set(name, {
          state: 'READY',
          lastCrawl: { status: 'FAILED', startedAt, errorMessage: error.message },
        }),
      )
      .finally(() => this.running.delete(crawl));
    this.running.add(crawl);
    return 'started';
  }

  async getCrawlerStatus(name: string): Promise<CrawlerStatus> {
    return structuredClone(this.status.get(name) ?? { state: 'READY' });
  }

  /** Infers the raw table's schema and partitions, recording schema changes since the last crawl. */
  private async crawl(dataset: ResolvedDataset): Promise<void> {
    const rawRoot = this.lake.bucketDir(dataset.raw.bucket);
    const partitions: Record<string, string> = {};
    for (const file of listFiles(join(rawRoot, dataset.raw.prefix))) {
      const parsed = parseRawKey(this.config, file.slice(rawRoot.length + 1));
      if (parsed.ok) partitions[partitionKey(dataset, parsed.partition)] = this.lake.uriOf(dirname(file)) + '/';
    }
    if (Object.keys(partitions).length === 0) return;
    // Like Glue's classifiers, infer from a sample: a few partitions spread over the dataset.
    const folders = Object.values(partitions).map((uri) => this.lake.pathOf(uri));
    const step = Math.max(1, Math.ceil(folders.length / CRAWL_SAMPLE_PARTITIONS));
    const sample = folders.filter((_, i) => i % step === 0).flatMap((dir) => listFiles(dir).slice(0, 1));
    const described = await this.engine.rows(
      `DESCRIBE SELECT * EXCLUDE (filename) FROM ${readerFor(dataset.raw.format, sample, { inferTypes: true })}`,
    );
    const columns = described.map((c) => ({ name: String(c.column_name), type: String(c.column_type).toLowerCase() }));
    const tableName = `sluice_${this.config.stage}_raw.${dataset.name}`;
    this.lake.updateCatalog((catalog) => {
      const before = catalog.tables[tableName];
      const change = before ? diffColumns(before.columns, columns) : null;
      catalog.tables[tableName] = {
        database: `sluice_${this.config.stage}_raw`,
        name: dataset.name,
        location: `s3://${dataset.raw.bucket}/${dataset.raw.prefix}`,
        columns,
        partitionKeys: dataset.partitioning.keys.map((k) => k.name),
        partitions,
        schemaChanges: [
          ...(before?.schemaChanges ?? []),
          ...(change && (change.added.length || change.removed.length || change.retyped.length)
            ? [{ at: this.clock.now().toISOString(), ...change }]
            : []),
        ],
      };
    });
  }
}

function diffColumns(before: Array<{ name: string; type: string }>, after: Array<{ name: string; type: string }>) {
  const old = new Map(before.map((c) => [c.name, c.type]));
  const now = new Map(after.map((c) => [c.name, c.type]));
  return {
    added: after.filter((c) => !old.has(c.name)).map((c) => c.name),
    removed: before.filter((c) => !now.has(c.name)).map((c) => c.name),
    retyped: after
      .filter((c) => old.has(c.name) && old.get(c.name) !== c.type)
      .map((c) => `${c.name}: ${old.get(c.name)} -> ${c.type}`),
  };
}

export interface JobRunStats {
  rowsIn: number;
  rowsOut: number;
  badRows: number;
  rejectsFile?: string;
  seconds: number;
}

interface LocalRun extends JobRunInfo {
  jobName: string;
  stats?: JobRunStats;
}

export class LocalJobs implements JobPort {
  private readonly runs: LocalRun[] = [];
  readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly config: ResolvedConfig,
    private readonly lake: LocalLake,
    private readonly engine: LocalEngine,
    private readonly clock: Clock,
  ) {}

  statsFor(runId: string): JobRunStats | undefined {
    return this.runs.find((r) => r.id === runId)?.stats;
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
      arguments: args,
    };
    this.runs.push(run);
    const started = Date.now();
    const work = convertPartition(this.engine, this.lake, this.config, dataset, args, run.id)
      .then((stats) => {
        run.stats = { ...stats, seconds: (Date.now() - started) / 1000 };
        const fraction = stats.rowsIn === 0 ? 0 : stats.badRows / stats.rowsIn;
        if (fraction > dataset.job.maxBadRowsFraction) {
          run.state = 'FAILED';
          run.errorMessage = `${stats.badRows} of ${stats.rowsIn} rows could not be cast (limit ${dataset.job.maxBadRowsFraction * 100}%); rejected rows kept in ${stats.rejectsFile}`;
        } else run.state = 'SUCCEEDED';
      })
      .catch((error: Error) => {
        run.state = 'FAILED';
        run.errorMessage = error.message;
      })
      .finally(() => this.pending.delete(work));
    this.pending.add(work);
    return run.id;
  }

  async getJobRun(_jobName: string, runId: string): Promise<JobRunInfo> {
    const run = this.runs.find((r) => r.id === runId);
    if (!run) throw Object.assign(new Error(`no job run ${runId}`), { name: 'GlueEntityNotFoundError' });
    const { jobName: _j, stats: _s, ...info } = run;
    return structuredClone(info);
  }

  async listRecentJobRuns(jobName: string, limit: number): Promise<JobRunInfo[]> {
    return this.runs
      .filter((r) => r.jobName === jobName)
      .reverse()
      .slice(0, limit)
      .map(({ jobName: _j, stats: _s, ...info }) => structuredClone(info));
  }
}

/**
 * One partition raw -> Parquet, applying the column mapping. Rows whose values cannot be cast are counted and
 * written to a rejects file beside the curated zone, never dropped silently. Output is written to a temporary
 * folder and renamed into place, so a reader never sees half a partition.
 */
/** The header line all CSV files share, or undefined when they differ (then DuckDB unions them by name). */
function sharedCsvHeader(files: string[]): string[] | undefined {
  const headers = files.map((file) => {
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(65_536);
      const read = readSync(fd, buffer, 0, buffer.length, 0);
      return buffer.subarray(0, read).toString('utf8').split(/\r?\n/)[0] ?? '';
    } finally {
      closeSync(fd);
    }
  });
  const first = headers[0];
  // Quoted headers need the sniffer's care; plain comma-separated names are read directly.
  if (!first || headers.some((h) => h !== first) || first.includes('"')) return undefined;
  return first.split(',');
}

export async function convertPartition(
  engine: LocalEngine,
  lake: LocalLake,
  config: ResolvedConfig,
  dataset: ResolvedDataset,
  args: Record<string, string>,
  runId: string,
): Promise<Omit<JobRunStats, 'seconds'>> {
  const source = lake.pathOf(args['--sluice_source_path'] ?? '');
  const target = lake.pathOf(args['--sluice_target_path'] ?? '');
  const mapping = JSON.parse(args['--sluice_mapping'] ?? '[]') as ColumnMapping[];
  const rawRoot = lake.bucketDir(dataset.raw.bucket);
  const files = listFiles(source).filter((f) => parseRawKey(config, f.slice(rawRoot.length + 1)).ok);
  if (files.length === 0) throw new Error(`no data files under ${args['--sluice_source_path']}`);
  // Temporary tables belong to a connection: the whole conversion runs in one session.
  return engine.session(async (db) => {
    const src = `src_${runId}`;
    const cast = (m: ColumnMapping, i: number) =>
      `TRY_CAST(CAST(${quoteIdent(m.source)} AS VARCHAR) AS ${duckType(m.type)}) AS __sluice_c${i}`;
    const badOne = (m: ColumnMapping, i: number) => `(${quoteIdent(m.source)} IS NOT NULL AND __sluice_c${i} IS NULL)`;
    const csvHeader = dataset.raw.format === 'csv' ? sharedCsvHeader(files) : undefined;
    const reader = readerFor(dataset.raw.format, files, csvHeader ? { csvHeader } : {});
    const columns = new Set(
      csvHeader ?? (await db.rows(`DESCRIBE SELECT * FROM ${reader}`)).map((c) => String(c.column_name)),
    );
    const missing = mapping.filter((m) => !columns.has(m.source)).map((m) => m.source);
    if (missing.length > 0) throw new Error(`source columns missing: ${missing.join(', ')}`);
    // One read and one cast per value: the casts and the bad-row flag are kept beside the raw text.
    await db.run(
      `CREATE OR REPLACE TEMP TABLE ${src} AS SELECT *, ${mapping.map(badOne).join(' OR ')} AS __sluice_bad
       FROM (SELECT *, ${mapping.map(cast).join(', ')} FROM ${reader})`,
    );
    try {
      const reason = `concat_ws(', ', ${mapping.map((m, i) => `CASE WHEN ${badOne(m, i)} THEN ${quoteString(`${m.source} is not ${m.type}`)} END`).join(', ')})`;
      const [counts] = await db.rows(
        `SELECT count(*) AS total, count(*) FILTER (WHERE __sluice_bad) AS bad FROM ${src}`,
      );
      const rowsIn = Number(counts?.total ?? 0);
      const badRows = Number(counts?.bad ?? 0);
      const tmp = `${target.replace(/\/$/, '')}.tmp-${runId}`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      await db.run(
        `COPY (SELECT ${mapping.map((m, i) => `__sluice_c${i} AS ${quoteIdent(m.target)}`).join(', ')} FROM ${src} WHERE NOT __sluice_bad) TO ${quoteString(join(tmp, 'part-00000.parquet'))} (FORMAT parquet)`,
      );
      let rejectsFile: string | undefined;
      if (badRows > 0) {
        rejectsFile = join(
          lake.bucketDir(dataset.target.bucket),
          '_rejected',
          dataset.name,
          `${args['--sluice_run_key'] ?? runId}.csv`,
        );
        mkdirSync(dirname(rejectsFile), { recursive: true });
        await db.run(
          `COPY (SELECT ${reason} AS sluice_reject_reason, * EXCLUDE (${[...mapping.map((_, i) => `__sluice_c${i}`), '__sluice_bad'].join(', ')}) FROM ${src} WHERE __sluice_bad) TO ${quoteString(rejectsFile)} (HEADER, DELIMITER ',')`,
        );
      }
      const fraction = rowsIn === 0 ? 0 : badRows / rowsIn;
      if (fraction <= dataset.job.maxBadRowsFraction) {
        rmSync(target, { recursive: true, force: true });
        mkdirSync(dirname(target.replace(/\/$/, '')), { recursive: true });
        renameSync(tmp, target.replace(/\/$/, ''));
      } else rmSync(tmp, { recursive: true, force: true });
      return { rowsIn, rowsOut: rowsIn - badRows, badRows, ...(rejectsFile ? { rejectsFile } : {}) };
    } finally {
      await db.run(`DROP TABLE IF EXISTS ${src}`);
    }
  });
}
