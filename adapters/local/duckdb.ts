import { availableParallelism } from 'node:os';
import { DuckDBInstance, StatementType, type DuckDBConnection } from '@duckdb/node-api';

/** Statements on one connection, in order: temporary tables and views live as long as the session. */
export interface EngineSession {
  rows(sql: string): Promise<Record<string, unknown>[]>;
  run(sql: string): Promise<void>;
  /** A `COPY … TO` statement; resolves with the number of rows it wrote. */
  copy(sql: string): Promise<number>;
}

/**
 * The rows a COPY wrote: its result is one row with one column, Count. The result is materialized when `run`
 * resolves, so it is read here synchronously; `runAndReadAll` would fetch the same chunk again through libuv's
 * thread pool, a second round trip per statement on the main thread.
 */
async function copyCount(connection: DuckDBConnection, sql: string): Promise<number> {
  const result = await connection.run(sql);
  const [count] = result.chunkCount === 1 ? result.getChunk(0).getColumnValues(0) : [];
  if (result.statementType !== StatementType.COPY || result.columnName(0) !== 'Count' || typeof count !== 'bigint')
    throw new Error(`not a COPY with a row count (columns: ${result.columnNames().join(', ')})`);
  return Number(count);
}

/** Connections handed out one session at a time, in arrival order. */
class ConnectionPool {
  private readonly idle: DuckDBConnection[];
  private readonly waiting: Array<(connection: DuckDBConnection) => void> = [];
  private busy = 0;

  /** `beforeWork` is told, before each session's work, how many sessions are in progress (that one included). */
  constructor(
    private readonly connections: DuckDBConnection[],
    private readonly beforeWork?: (connection: DuckDBConnection, busy: number) => Promise<unknown>,
  ) {
    this.idle = [...connections];
  }

  async session<T>(work: (session: EngineSession) => Promise<T>): Promise<T> {
    const connection =
      this.idle.pop() ?? (await new Promise<DuckDBConnection>((resolve) => this.waiting.push(resolve)));
    this.busy += 1;
    try {
      await this.beforeWork?.(connection, this.busy);
      return await work({
        rows: async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[],
        run: async (sql) => {
          await connection.run(sql);
        },
        copy: (sql) => copyCount(connection, sql),
      });
    } finally {
      this.busy -= 1;
      const next = this.waiting.shift();
      if (next) next(connection);
      else this.idle.push(connection);
    }
  }

  close(): void {
    for (const connection of this.connections) connection.closeSync();
  }
}

/**
 * Job runs convert side by side on this many connections: one more than the cores (while one run's statement
 * waits for the main thread, the others keep the cores busy), but at most 3, so that one of libuv's 4 threads,
 * which every DuckDB statement occupies while it runs, stays free for the file system (measured in issue 14).
 */
export function defaultJobConnections(cores = availableParallelism()): number {
  return Math.max(2, Math.min(3, cores + 1));
}

/** DuckDB threads for job runs: the cores shared among the runs in progress, at least one each. */
export function jobThreads(cores: number, runs: number): number {
  return Math.max(1, Math.floor(cores / runs));
}

/**
 * Keeps the job instance's threads at jobThreads(cores, runs in progress), applied as each run starts. `threads` is
 * an instance-wide setting, so the changes are applied one at a time, in the order they were decided.
 */
function threadsFollowingRuns(cores: number): (connection: DuckDBConnection, runs: number) => Promise<unknown> {
  let current = cores;
  let applying: Promise<unknown> = Promise.resolve();
  return (connection, runs) => {
    const wanted = jobThreads(cores, runs);
    if (wanted === current) return Promise.resolve();
    current = wanted;
    applying = applying.catch(() => undefined).then(() => connection.run(`SET threads = ${wanted}`));
    return applying;
  };
}

/**
 * Job statements run as written, without DuckDB's optimizer. A job's statements are simple scans and projections that
 * name the columns they need, and the optimizer only made them dearer:
 * - its filter pushdown copies the cast contract's value expressions into the filter below the projection that
 *   computes them, so every value was validated and cast twice per row (the regular expressions included);
 * - its passes are a fixed cost of every statement, and the local job binds one statement per partition.
 * Issue 14 measured the good-row COPY at -8 to -20% of CPU for a 1,000-row partition and about -20% per row for
 * 30,000-row statements (one connection each way, statements interleaved). Queries and the crawler keep the optimizer.
 */
export const JOB_STATEMENTS_UNOPTIMIZED = 'PRAGMA disable_optimizer';

/**
 * One in-process DuckDB for the crawler's classifiers and Athena, and one for job runs (Glue's Spark), each with a
 * small pool of connections.
 *
 * Job runs get their own instance, whose threads follow the runs in progress (jobThreads): a run alone gets every
 * core; runs side by side share them, one thread each on 2 cores, and the parallelism comes from the runs, as on
 * Glue. A partition's statement is mostly setup (binding the cast contract's expressions, the CSV reader, the Parquet
 * writer), paid again on each thread it runs on, so DuckDB's parallelism inside partitions that run side by side
 * cost more CPU than it saved: issue 14 measured one thread per statement at -22% CPU for 1M rows over 30
 * partitions and -5% over 1,000 (medians of 5 interleaved runs), and following the runs keeps a 1-partition run
 * as fast as with every core.
 * Queries keep every core (DuckDB's default threads).
 */
export class LocalEngine {
  private constructor(
    private readonly shared: ConnectionPool,
    private readonly jobs: ConnectionPool,
  ) {}

  static async open(connections = defaultJobConnections()): Promise<LocalEngine> {
    if (!Number.isInteger(connections) || connections < 1)
      throw new Error(`DuckDB connections must be a positive integer, got ${connections}`);
    const connect = (instance: DuckDBInstance, count: number) =>
      Promise.all(Array.from({ length: count }, () => instance.connect()));
    // Two connections are plenty for a crawl and a query side by side.
    const shared = new ConnectionPool(await connect(await DuckDBInstance.create(':memory:'), Math.min(connections, 2)));
    const cores = availableParallelism();
    const jobInstance = await DuckDBInstance.create(':memory:', { threads: String(cores) });
    const jobConnections = await connect(jobInstance, connections);
    for (const connection of jobConnections) await connection.run(JOB_STATEMENTS_UNOPTIMIZED);
    const jobs = new ConnectionPool(jobConnections, threadsFollowingRuns(cores));
    return new LocalEngine(shared, jobs);
  }

  /** A session for the crawler and queries. */
  session<T>(work: (session: EngineSession) => Promise<T>): Promise<T> {
    return this.shared.session(work);
  }

  /** A session for one job run: waits for one of the job connections. */
  jobSession<T>(work: (session: EngineSession) => Promise<T>): Promise<T> {
    return this.jobs.session(work);
  }

  rows(sql: string): Promise<Record<string, unknown>[]> {
    return this.session((s) => s.rows(sql));
  }

  run(sql: string): Promise<void> {
    return this.session((s) => s.run(sql));
  }

  close(): void {
    this.shared.close();
    this.jobs.close();
  }
}

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
export const quoteString = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/**
 * DuckDB reader over raw files. The job reads everything as text so that casting (and counting what does not cast)
 * is its own; the crawler asks for type inference instead. union_by_name only where several files meet.
 */
export function readerFor(
  format: 'csv' | 'json' | 'parquet',
  files: string[],
  options: { inferTypes?: boolean; csvHeader?: string[] } = {},
): string {
  const list = `[${files.map(quoteString).join(', ')}]`;
  const union = files.length > 1 ? ', union_by_name = true' : '';
  switch (format) {
    case 'csv':
      if (options.csvHeader && !options.inferTypes) {
        // Every file has this header: skip DuckDB's sniffer (its cost is per call, and a partition is small).
        const columns = options.csvHeader.map((c) => `${quoteString(c)}: 'VARCHAR'`).join(', ');
        return `read_csv(${list}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = {${columns}}, filename = true)`;
      }
      return `read_csv(${list}, header = true${options.inferTypes ? '' : ', all_varchar = true'}${union}, filename = true)`;
    case 'json':
      return `read_json(${list}, format = 'newline_delimited'${union}, filename = true)`;
    case 'parquet':
      return `read_parquet(${list}${union}, filename = true)`;
  }
}
