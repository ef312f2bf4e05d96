/**
 * Local stand-in for the Glue crawler, on DuckDB. It runs in the background like the real service: start returns at
 * once, status is polled by the same step code that polls AWS.
 */
import { dirname, join } from 'node:path';
import { type ResolvedConfig, type ResolvedDataset, parseRawKey, partitionKey } from '../../domain/config';
import type { Clock, CrawlerPort, CrawlerStatus } from '../../domain/common';
import { quoteString, readerFor, type LocalEngine } from './duckdb';
import { holdsData, listFiles } from './glue';
import type { CatalogColumn, LocalLake, UnreadableFile } from './lake';
import { glueCrawlerStateChange, StateChangeEmitter } from './state-change-events';

/** Partitions whose first file the local crawler reads to infer the schema, and rows it sniffs in each. */
const CRAWL_SAMPLE_PARTITIONS = 5;
const CRAWL_SAMPLE_ROWS = 1000;
/**
 * The CSV dialect of the cast contract, as the job reads it (comma, double quote, quote doubled to escape it).
 * Given, not sniffed: DuckDB's dialect detection tries many delimiter/quote/escape candidates and was most of a
 * crawl's time (issue 25: ~0.55 s of a 0.6 s DESCRIBE over 5 sampled files, 0.07 s with the dialect given).
 */
const CSV_DIALECT = `delim = ',', quote = '"', escape = '"'`;

export class LocalCrawlers implements CrawlerPort {
  private readonly status = new Map<string, CrawlerStatus>();
  private readonly running = new Set<Promise<unknown>>();
  /** Issue 13: a `Glue Crawler State Change` event when a crawl ends, as Glue puts on EventBridge. */
  readonly stateChanges = new StateChangeEmitter();

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
    this.stateChanges.track(crawl, () => {
      const last = this.status.get(name)?.lastCrawl;
      const state = last?.status === 'SUCCEEDED' ? 'Succeeded' : 'Failed';
      return glueCrawlerStateChange(name, state, this.clock.now(), last?.errorMessage);
    });
    return 'started';
  }

  async getCrawlerStatus(name: string): Promise<CrawlerStatus> {
    return structuredClone(this.status.get(name) ?? { state: 'READY' });
  }

  /**
   * The sample's columns, inferred together (one statement, as before), or, when that fails, file by file: a file
   * the engine cannot read is set aside with its reason and the others still give the schema. Glue does the same
   * with a file no classifier recognizes: it classifies it UNKNOWN and the crawl goes on
   * (https://docs.aws.amazon.com/glue/latest/dg/add-classifier.html). `columns` is undefined when nothing was read.
   */
  private async describeSample(
    dataset: ResolvedDataset,
    sample: string[],
  ): Promise<{ columns?: CatalogColumn[]; unreadable: Array<{ file: string; reason: string }> }> {
    const describe = async (files: string[]): Promise<CatalogColumn[]> => {
      const reader =
        dataset.raw.format === 'csv'
          ? `read_csv([${files.map(quoteString).join(', ')}], header = true, ${CSV_DIALECT}, sample_size = ${CRAWL_SAMPLE_ROWS}${files.length > 1 ? ', union_by_name = true' : ''}, filename = true)`
          : readerFor(dataset.raw.format, files, { inferTypes: true });
      return (await this.engine.rows(`DESCRIBE SELECT * EXCLUDE (filename) FROM ${reader}`)).map((c) => ({
        name: String(c.column_name),
        type: String(c.column_type).toLowerCase(),
      }));
    };
    if (sample.length === 0) return { unreadable: [] };
    try {
      return { columns: await describe(sample), unreadable: [] };
    } catch {
      const readable: string[] = [];
      const unreadable: Array<{ file: string; reason: string }> = [];
      for (const file of sample) {
        try {
          await describe([file]);
          readable.push(file);
        } catch (error) {
          unreadable.push({ file, reason: unreadableReason(dataset.raw.format, error) });
        }
      }
      return readable.length > 0 ? { columns: await describe(readable), unreadable } : { unreadable };
    }
  }

  /**
   * Infers the raw table's schema and partitions, recording schema changes since the last crawl. A partition is
   * registered only if it holds an accepted data file: a zero-byte object (rejected by the intake) is not one.
   * A file the crawler cannot read never fails the crawl (issue 25): it is noted against its partition in the
   * table (`unreadable`), the partition stays registered, and its job run fails alone, naming the file.
   */
  private async crawl(dataset: ResolvedDataset): Promise<void> {
    const rawRoot = this.lake.bucketDir(dataset.raw.bucket);
    const partitions: Record<string, string> = {};
    const firstFile = new Map<string, string>();
    for (const file of listFiles(join(rawRoot, dataset.raw.prefix))) {
      const parsed = parseRawKey(this.config, file.slice(rawRoot.length + 1));
      if (!parsed.ok || !holdsData(file)) continue;
      const key = partitionKey(dataset, parsed.partition);
      partitions[key] = this.lake.uriOf(dirname(file)) + '/';
      if (!firstFile.has(key)) firstFile.set(key, file);
    }
    if (Object.keys(partitions).length === 0) return;
    const tableName = `sluice_${this.config.stage}_raw.${dataset.name}`;
    const known = this.lake.readCatalog().tables[tableName];
    // Like Glue's classifiers, infer from a sample: the first file of a few partitions spread over the dataset,
    // and only the first rows of each (the sniffer's cost grows with the rows it reads). Recrawling new folders
    // only, as Glue's CRAWL_NEW_FOLDERS_ONLY does, samples only partitions the table does not have yet.
    const firsts = [...firstFile]
      .filter(([key]) => dataset.crawler.recrawl === 'everything' || !known?.partitions[key])
      .map(([, file]) => file);
    const step = Math.max(1, Math.ceil(firsts.length / CRAWL_SAMPLE_PARTITIONS));
    const sample = firsts.filter((_, i) => i % step === 0);
    const { columns: inferred, unreadable } = await this.describeSample(dataset, sample);
    const keyOf = new Map([...firstFile].map(([key, file]) => [file, key]));
    // Partitions whose sampled file could not be read keep what the table knew; the rest are noted afresh.
    const notes: Record<string, UnreadableFile> = {};
    for (const [key, note] of Object.entries(known?.unreadable ?? {})) if (partitions[key]) notes[key] = note;
    for (const file of sample) delete notes[keyOf.get(file) ?? ''];
    for (const { file, reason } of unreadable)
      notes[keyOf.get(file) ?? ''] = { file: file.slice(rawRoot.length + 1), reason };
    const columns = inferred ?? known?.columns ?? [];
    this.lake.updateCatalog((catalog) => {
      const before = catalog.tables[tableName];
      const change = before ? diffColumns(before.columns, columns) : null;
      catalog.tables[tableName] = {
        database: `sluice_${this.config.stage}_raw`,
        name: dataset.name,
        location: `s3://${dataset.raw.bucket}/${dataset.raw.prefix}`,
        columns,
        partitionKeys: dataset.partitioning.keys.map((k) => k.name),
        partitionColumns: dataset.partitioning.keys.map((k) => ({ name: k.name, type: k.type })),
        partitions,
        ...(Object.keys(notes).length > 0 ? { unreadable: notes } : {}),
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

/**
 * Why a file cannot be read, in sluice's words first (the format sluice expects), then the engine's first line.
 * JSON means JSON lines here: one object per line (a JSON array, or one object over several lines, is not).
 */
export function unreadableReason(format: 'csv' | 'json' | 'parquet', error: unknown): string {
  const engine = (error instanceof Error ? error.message : String(error)).split('\n')[0]?.trim() ?? '';
  const expected =
    format === 'json'
      ? 'not JSON lines (sluice reads one JSON object per line; a JSON array or an object over several lines is not read)'
      : format === 'csv'
        ? 'not readable as CSV with a header line'
        : 'not a readable Parquet file';
  const clipped = engine.length > 160 ? `${engine.slice(0, 159)}…` : engine;
  return `${expected}: ${clipped}`;
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
