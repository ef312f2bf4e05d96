import { availableParallelism } from 'node:os';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** Statements on one connection, in order: temporary tables and views live as long as the session. */
export interface EngineSession {
  rows(sql: string): Promise<Record<string, unknown>[]>;
  run(sql: string): Promise<void>;
}

/**
 * One in-process DuckDB (the local stand-in for the crawler's classifiers, Glue's Spark and Athena) with a small
 * pool of connections, so that partitions convert side by side as Glue job runs do.
 */
export class LocalEngine {
  private readonly idle: DuckDBConnection[];
  private readonly waiting: Array<(connection: DuckDBConnection) => void> = [];

  private constructor(private readonly connections: DuckDBConnection[]) {
    this.idle = [...connections];
  }

  static async open(connections = Math.max(2, Math.min(4, availableParallelism()))): Promise<LocalEngine> {
    if (!Number.isInteger(connections) || connections < 1)
      throw new Error(`DuckDB connections must be a positive integer, got ${connections}`);
    const instance = await DuckDBInstance.create(':memory:');
    return new LocalEngine(await Promise.all(Array.from({ length: connections }, () => instance.connect())));
  }

  async session<T>(work: (session: EngineSession) => Promise<T>): Promise<T> {
    const connection =
      this.idle.pop() ?? (await new Promise<DuckDBConnection>((resolve) => this.waiting.push(resolve)));
    try {
      return await work({
        rows: async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[],
        run: async (sql) => {
          await connection.run(sql);
        },
      });
    } finally {
      const next = this.waiting.shift();
      if (next) next(connection);
      else this.idle.push(connection);
    }
  }

  rows(sql: string): Promise<Record<string, unknown>[]> {
    return this.session((s) => s.rows(sql));
  }

  run(sql: string): Promise<void> {
    return this.session((s) => s.run(sql));
  }

  close(): void {
    for (const connection of this.connections) connection.closeSync();
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
