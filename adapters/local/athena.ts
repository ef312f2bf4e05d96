/**
 * Local "Athena": the partition DDL the refresh step sends registers partitions in the local catalog; any
 * other SQL runs in DuckDB over the registered partitions of the target tables (unregistered files stay
 * invisible, exactly as in Athena).
 */
import { existsSync, appendFileSync } from 'node:fs';
import { duckdbPartitionType, duckdbType, partitionColumnType } from '../../domain/rows';
import type { ResolvedConfig } from '../../domain/config';
import type { NotifierPort, QueryPort, QueryStateName } from '../../domain/common';
import { quoteIdent, quoteString, type LocalEngine } from './duckdb';
import type { LocalLake } from './lake';
import { athenaQueryStateChange, StateChangeEmitter } from './state-change-events';

const ADD_PARTITIONS = /^ALTER TABLE `([a-z_][a-z0-9_]*)` ADD IF NOT EXISTS\s+([\s\S]+)$/;
const PARTITION_CLAUSE = /PARTITION \(([^)]*)\) LOCATION '([^']*)'/g;
/** `key` = 'text' | `key` = 2024 | `key` = DATE 'yyyy-mm-dd' (the typed literals of domain/steps/athena.ts). */
const SPEC = /`([a-z_][a-z0-9_]*)` = (?:DATE )?(?:'([^']*)'|(-?[0-9]+))/g;

export class LocalQueries implements QueryPort {
  private readonly queries = new Map<string, { state: QueryStateName; reason?: string }>();
  private readonly byToken = new Map<string, string>();
  /** Issue 13: an `Athena Query State Change` event when a query ends (here: before startQuery returns). */
  readonly stateChanges = new StateChangeEmitter();

  constructor(
    private readonly config: ResolvedConfig,
    private readonly lake: LocalLake,
    private readonly engine: LocalEngine,
  ) {}

  /** Creates the target tables, as the deploy does with Glue tables on AWS. */
  ensureTargetTables(): void {
    this.lake.updateCatalog((catalog) => {
      for (const d of this.config.datasets) {
        const name = `${d.target.database}.${d.target.table}`;
        const table = (catalog.tables[name] ??= {
          database: d.target.database,
          name: d.target.table,
          location: `s3://${d.target.bucket}/`,
          columns: d.mapping.map((m) => ({ name: m.target, type: m.type })),
          partitionKeys: d.partitioning.keys.map((k) => k.name),
          partitions: {},
          schemaChanges: [],
        });
        // Typed as the config says, as the Glue table is on AWS (also for catalogs written before types were kept).
        table.partitionColumns = d.partitioning.keys.map((k) => ({ name: k.name, type: partitionColumnType(k.type) }));
      }
    });
  }

  async startQuery(q: {
    sql: string;
    database: string;
    workgroup: string;
    clientRequestToken: string;
  }): Promise<string> {
    const existing = this.byToken.get(q.clientRequestToken);
    if (existing) return existing;
    const id = `local-query-${this.queries.size + 1}`;
    this.byToken.set(q.clientRequestToken, id);
    try {
      const ddl = ADD_PARTITIONS.exec(q.sql.trim());
      if (ddl) this.addPartitions(q.database, ddl[1] ?? '', ddl[2] ?? '');
      else await this.query(q.sql);
      this.queries.set(id, { state: 'SUCCEEDED' });
    } catch (error) {
      this.queries.set(id, { state: 'FAILED', reason: (error as Error).message });
    }
    const state = this.queries.get(id)?.state ?? 'FAILED';
    this.stateChanges.track(Promise.resolve(), () => athenaQueryStateChange(id, state, 'RUNNING', q.workgroup));
    return id;
  }

  async getQuery(id: string): Promise<{ state: QueryStateName; reason?: string }> {
    return this.queries.get(id) ?? { state: 'FAILED', reason: `no query ${id}` };
  }

  private addPartitions(database: string, table: string, clauses: string): void {
    this.lake.updateCatalog((catalog) => {
      const entry = catalog.tables[`${database}.${table}`];
      if (!entry) throw new Error(`FAILED: SemanticException [Error 10001]: Table not found ${database}.${table}`);
      for (const clause of clauses.matchAll(PARTITION_CLAUSE)) {
        const key = [...(clause[1] ?? '').matchAll(SPEC)].map((m) => `${m[1]}=${m[2] ?? m[3]}`).join('/');
        entry.partitions[key] ??= clause[2] ?? '';
      }
    });
  }

  /** Runs SQL over views of the registered partitions of every target table. */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    const catalog = this.lake.readCatalog();
    // Temporary views belong to a connection: create them and query them in one session.
    return this.engine.session(async (db) => {
      for (const d of this.config.datasets) {
        const table = catalog.tables[`${d.target.database}.${d.target.table}`];
        const files = Object.values(table?.partitions ?? {})
          .map((uri) => this.lake.pathOf(uri))
          .filter((dir) => existsSync(dir))
          .map((dir) => `${dir.replace(/\/$/, '')}/*.parquet`);
        const view = quoteIdent(d.target.table);
        // Partition columns get the config's types (int -> INTEGER, date -> DATE), never DuckDB's guess from the
        // folder names (which made year BIGINT and month/day VARCHAR).
        const hiveTypes = d.partitioning.keys
          .map((k) => `${quoteString(k.name)}: ${quoteString(duckdbPartitionType(k.type))}`)
          .join(', ');
        const keys = d.partitioning.keys.map((k) => quoteIdent(k.name)).join(', ');
        if (files.length === 0) {
          const columns = [
            ...d.mapping.map((m) => `NULL::${duckdbType(m.type)} AS ${quoteIdent(m.target)}`),
            ...d.partitioning.keys.map((k) => `NULL::${duckdbPartitionType(k.type)} AS ${quoteIdent(k.name)}`),
          ].join(', ');
          await db.run(`CREATE OR REPLACE TEMP VIEW ${view} AS SELECT ${columns} WHERE false`);
        } else
          await db.run(
            // Partition columns last and in the config's order (DuckDB's hive columns come out sorted by name).
            `CREATE OR REPLACE TEMP VIEW ${view} AS SELECT * EXCLUDE (${keys}), ${keys} FROM read_parquet([${files.map(quoteString).join(', ')}], hive_partitioning = true, hive_types = {${hiveTypes}}, union_by_name = true)`,
          );
      }
      return db.rows(sql);
    });
  }
}

/** Local SNS: prints the message and appends it to <lake>/notifications.jsonl. */
export class LocalNotifier implements NotifierPort {
  readonly published: Array<{ subject: string; message: string }> = [];
  constructor(
    private readonly file: string,
    private readonly print: (text: string) => void,
  ) {}
  async publish(n: { subject: string; message: string; attributes: Record<string, string> }): Promise<string> {
    const id = `local-msg-${this.published.length + 1}`;
    this.published.push(n);
    appendFileSync(this.file, JSON.stringify({ id, at: new Date().toISOString(), ...n }) + '\n');
    this.print(`\n✉  SNS ${n.subject}\n${n.message.split('\nMachine-readable report:')[0]}`);
    return id;
  }
}
