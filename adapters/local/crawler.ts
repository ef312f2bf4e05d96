/**
 * Local stand-in for the Glue crawler, on DuckDB. It runs in the background like the real service: start returns at
 * once, status is polled by the same step code that polls AWS.
 */
import { dirname, join } from 'node:path';
import type { ResolvedConfig, ResolvedDataset } from '../../domain/config';
import { parseRawKey, partitionKey } from '../../domain/partitions';
import type { Clock, CrawlerPort, CrawlerStatus } from '../../domain/ports';
import { quoteString, readerFor, type LocalEngine } from './duckdb';
import { holdsData, listFiles } from './glue';
import type { LocalLake } from './lake';
import { glueCrawlerStateChange, StateChangeEmitter } from './state-change-events';

/** Partitions whose first file the local crawler reads to infer the schema, and rows it sniffs in each. */
const CRAWL_SAMPLE_PARTITIONS = 5;
const CRAWL_SAMPLE_ROWS = 1000;

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
   * Infers the raw table's schema and partitions, recording schema changes since the last crawl. A partition is
   * registered only if it holds an accepted data file: a zero-byte object (rejected by the intake) is not one.
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
    const reader =
      dataset.raw.format === 'csv'
        ? `read_csv([${sample.map(quoteString).join(', ')}], header = true, sample_size = ${CRAWL_SAMPLE_ROWS}${sample.length > 1 ? ', union_by_name = true' : ''}, filename = true)`
        : readerFor(dataset.raw.format, sample, { inferTypes: true });
    const columns =
      sample.length === 0 && known
        ? known.columns
        : (await this.engine.rows(`DESCRIBE SELECT * EXCLUDE (filename) FROM ${reader}`)).map((c) => ({
            name: String(c.column_name),
            type: String(c.column_type).toLowerCase(),
          }));
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
