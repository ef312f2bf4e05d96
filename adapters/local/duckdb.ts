import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** One in-process DuckDB: the local stand-in for the crawler's classifiers, Glue's Spark, and Athena. */
export class LocalEngine {
  /** One connection runs one statement at a time; callers queue here instead of interleaving. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly connection: DuckDBConnection) {}

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  static async open(): Promise<LocalEngine> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
    return new LocalEngine(await instance.connect());
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    return this.serial(async () => {
      const reader = await this.connection.runAndReadAll(sql);
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    });
  }

  async run(sql: string): Promise<void> {
    await this.serial(() => this.connection.run(sql));
  }

  close(): void {
    this.connection.closeSync();
  }
}

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
export const quoteString = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/** DuckDB reader for a raw format; everything is read as text so casting (and counting bad rows) is ours. */
export function readerFor(format: 'csv' | 'json' | 'parquet', glob: string): string {
  switch (format) {
    case 'csv':
      return `read_csv(${quoteString(glob)}, header = true, all_varchar = true, union_by_name = true, filename = true)`;
    case 'json':
      return `read_json(${quoteString(glob)}, format = 'newline_delimited', union_by_name = true, filename = true)`;
    case 'parquet':
      return `read_parquet(${quoteString(glob)}, union_by_name = true, filename = true)`;
  }
}

/** Glue/Athena type names -> DuckDB. */
export function duckType(type: string): string {
  const decimal = /^decimal\((\d+),(\d+)\)$/.exec(type);
  if (decimal) return `DECIMAL(${decimal[1]},${decimal[2]})`;
  const map: Record<string, string> = {
    string: 'VARCHAR',
    int: 'INTEGER',
    bigint: 'BIGINT',
    double: 'DOUBLE',
    boolean: 'BOOLEAN',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
  };
  const mapped = map[type];
  if (!mapped) throw new Error(`unknown column type ${type}`);
  return mapped;
}
