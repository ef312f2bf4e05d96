/**
 * The cast contract: for each target type of a column mapping, which input text is a value, which is a bad row,
 * and what value it becomes. Decided once, here, and rendered as SQL for both engines (DuckDB locally, Spark SQL in
 * the Glue job), so no engine's implicit cast rules decide what a bad row is.
 *
 * Every raw value is first seen as text (CSV fields; JSON members as their JSON text, strings unquoted; Parquet
 * values cast to text). Then, for each type:
 * - null is NULL. So is a missing-value marker (raw.nullValues, default ['']): a string column's text equal to one,
 *   or another type's trimmed text equal to one or blank. A missing value, not a bad row (issue 25: R writes NA,
 *   Hive and Postgres \N, others NULL). Markers apply to every column, strings included: with the markers ['NA'], a
 *   string whose real value is "NA" is NULL too; without that marker it is the text "NA";
 * - string: the text, verbatim (no trimming);
 * - every other type trims spaces, tabs, CR and LF first, then must FULLY match its pattern below, and the value
 *   must fit the type (range, calendar, finiteness); otherwise the row is bad, with the reason
 *   "<source> is not <type>";
 * - int / bigint: optional sign, decimal digits (leading zeros allowed), 32 / 64-bit range. No fraction, no
 *   exponent: '1.5' is a bad row on both engines (never truncated nor rounded), '1e3' too;
 * - double: optional sign, digits with an optional fraction, optional exponent; must be finite (NaN, Infinity,
 *   1e400 are bad rows); 1e-400 underflows to 0 (IEEE parsing, correctly rounded on both engines);
 * - boolean: true/false/1/0, any letter case;
 * - date: YYYY-MM-DD, a real calendar day;
 * - timestamp: YYYY-MM-DD, 'T' or ' ', HH:MM:SS, optional .fraction of 1 to 6 digits, optional zone 'Z' or
 *   ±HH, ±HHMM, ±HH:MM. The value is the UTC instant. A zone in the text wins; a text without one is a wall-clock
 *   time in raw.timeZone (an IANA name, default UTC). A wall time that a daylight-saving change skips (a gap) is
 *   moved forward by the gap (02:30 on a spring-forward night in New York is 03:30 EDT); one that happens twice (an
 *   overlap) is the earlier instant (01:30 on a fall-back night is 01:30 EDT). java.time's rule, which Spark applies;
 *   DuckDB's ICU picks the later instant in an overlap, so the DuckDB rendering chooses explicitly (see
 *   duckdbZonedTimestamp). 24:00:00 and leap seconds are bad rows;
 * - decimal(p,s): optional sign, digits, optional fraction, optional exponent (5E-3); rounded half away from
 *   zero to s fraction digits (1.005 -> 1.01, -1.005 -> -1.01, 5E-3 -> 0.01); more than p-s integer digits after
 *   rounding is a bad row.
 *
 * Regular expressions are written without backslashes so they mean the same in RE2 (DuckDB), in Java regex
 * (Spark) and inside a Spark SQL string literal (which would otherwise unescape them).
 */
import type { ColumnMapping } from '../../schemas/types.generated';

export type BaseType = 'string' | 'int' | 'bigint' | 'double' | 'boolean' | 'date' | 'timestamp' | 'decimal';

export interface TargetType {
  base: BaseType;
  precision?: number;
  scale?: number;
  /** The Glue/Athena/Spark name, e.g. decimal(12,2). */
  name: string;
}

/** How raw text is read before the types' rules (issue 25): missing-value markers and the zone of zone-less times. */
export interface ReadOptions {
  /** Texts that are NULL in every column (exact for strings, after trimming for other types). Default ['']. */
  nullValues: string[];
  /** IANA zone of timestamps written without one. Default UTC. */
  timeZone: string;
}

export const DEFAULT_READ_OPTIONS: ReadOptions = { nullValues: [''], timeZone: 'UTC' };

export function readOptionsOf(dataset: { raw: { nullValues?: string[]; timeZone?: string } }): ReadOptions {
  return {
    nullValues: dataset.raw.nullValues ?? DEFAULT_READ_OPTIONS.nullValues,
    timeZone: dataset.raw.timeZone ?? DEFAULT_READ_OPTIONS.timeZone,
  };
}

/** What a file that lacks a mapped column produces: bad rows naming the file and column, or a failed partition. */
export type MissingColumnPolicy = 'bad-rows' | 'fail';

const SIGN = '[+-]?';
const DIGITS = '[0-9]+';
const UNSIGNED_DECIMAL = '([0-9]+([.][0-9]*)?|[.][0-9]+)';
const HOUR = '([01][0-9]|2[0-3])';
const MINUTE = '[0-5][0-9]';
const ZONE = `(Z|[+-]${HOUR}(:?${MINUTE})?)`;
const TIMESTAMP_TEXT = `[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]${HOUR}:${MINUTE}:${MINUTE}([.][0-9]{1,6})?`;

/** Full-match patterns (applied to the trimmed text). */
export const PATTERNS = {
  int: `${SIGN}${DIGITS}`,
  bigint: `${SIGN}${DIGITS}`,
  double: `${SIGN}${UNSIGNED_DECIMAL}([eE][+-]?[0-9]+)?`,
  boolean: '(true|false|1|0)',
  date: '[0-9]{4}-[0-9]{2}-[0-9]{2}',
  timestamp: `${TIMESTAMP_TEXT}${ZONE}?`,
  // An exponent is allowed: Spark renders some decimals and large doubles that way (1E-7, 1.23456789E7).
  decimal: `${SIGN}${UNSIGNED_DECIMAL}([eE][+-]?[0-9]+)?`,
} as const;

/** A timestamp whose text carries its zone ('Z' or a numeric offset). */
const ZONED_TIMESTAMP = `${TIMESTAMP_TEXT}${ZONE}`;

/** Largest finite double: a parsed value beyond it is a bad row, not Infinity. */
const MAX_DOUBLE = '1.7976931348623157E308';

export class CastContractError extends Error {
  override name = 'CastContractError';
}

export function parseTargetType(type: string): TargetType {
  const decimal = /^decimal\((\d{1,2}),(\d{1,2})\)$/.exec(type);
  if (decimal) {
    const precision = Number(decimal[1]);
    const scale = Number(decimal[2]);
    // Athena, Glue and Parquet decimals stop at 38 digits.
    if (precision < 1 || precision > 38 || scale > precision)
      throw new CastContractError(`type ${type}: decimal(p,s) needs 1 <= p <= 38 and s <= p`);
    return { base: 'decimal', precision, scale, name: type };
  }
  if (['string', 'int', 'bigint', 'double', 'boolean', 'date', 'timestamp'].includes(type))
    return { base: type as BaseType, name: type };
  throw new CastContractError(`unknown column type ${type}`);
}

/** The two SQL dialects differ only in these few spellings. */
interface Dialect {
  quote(text: string): string;
  trim(x: string): string;
  fullMatch(x: string, pattern: string): string;
  /** A cast that yields NULL instead of failing (the job pins ANSI off on Spark; DuckDB has TRY_CAST). */
  tryCast(x: string, type: TargetType): string;
  /** The UTC instant of a text `t` that fully matched PATTERNS.timestamp, as a timestamp without zone. */
  utcTimestamp(t: string, type: TargetType): string;
  /** The UTC instant of a wall-clock timestamp `ts` (no zone) in the IANA zone `zone` (gap forward, overlap earlier). */
  zonedToUtc(ts: string, zone: string): string;
}

const DUCK_TYPES: Record<Exclude<BaseType, 'decimal'>, string> = {
  string: 'VARCHAR',
  int: 'INTEGER',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
};

export function duckdbType(type: TargetType | string): string {
  const t = typeof type === 'string' ? parseTargetType(type) : type;
  return t.base === 'decimal' ? `DECIMAL(${t.precision},${t.scale})` : DUCK_TYPES[t.base];
}

const quoteSql = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/**
 * Spark: without a numeric offset the text (with 'T' or ' ', optional 'Z') casts as it is, in the session's UTC; with
 * one, the local part is cast and the offset subtracted.
 */
function sparkUtcTimestamp(t: string, type: TargetType): string {
  const offset = '([+-])([0-9]{2}):?([0-9]{2})?$';
  const local = `concat(regexp_extract(${t}, '^([0-9-]{10})[T ]([0-9:.]+)', 1), ' ', regexp_extract(${t}, '^([0-9-]{10})[T ]([0-9:.]+)', 2))`;
  const zone = (group: number) => `regexp_extract(${t}, '${offset}', ${group})`;
  const offsetMinutes = `(CASE WHEN ${zone(1)} = '-' THEN -1 ELSE 1 END) * (CAST(${zone(2)} AS INT) * 60 + COALESCE(CAST(NULLIF(${zone(3)}, '') AS INT), 0))`;
  return `(CASE WHEN (${t} rlike '${offset}') THEN (CAST(${local} AS ${type.name}) - make_dt_interval(0, 0, CAST(${offsetMinutes} AS INT), 0)) ELSE CAST(${t} AS ${type.name}) END)`;
}

/**
 * DuckDB, with no regular expression beyond the pattern's: each one is compiled when a statement is bound and again
 * for each thread that runs it, and the local job binds one statement per partition (issue 14: the five
 * regexp_extract calls Spark's rendering uses were 1.4 ms of every partition's statement).
 * - The pattern fixes the first 19 characters (date, separator, time), so a '+' or '-' after them can only be the
 *   sign of a numeric offset.
 * - With one, DuckDB's TIMESTAMPTZ cast applies it (±HH, ±HHMM, ±HH:MM; 'T' or ' '), and epoch_us/make_timestamp
 *   turn the instant into a timestamp without zone. Neither depends on the session's TimeZone, which would decide
 *   the instant of a text without an offset and the TIMESTAMPTZ -> TIMESTAMP cast.
 * - Without one ('Z' or nothing), the plain TIMESTAMP cast reads the text as UTC.
 * tests/conformance/duckdb-timestamp.test.ts holds this equal to the regexp_extract rendering, under several
 * session time zones.
 */
function duckdbUtcTimestamp(t: string, type: TargetType): string {
  const zoneText = `substr(${t}, 20)`;
  const hasOffset = `(${zoneText} LIKE '%+%' OR ${zoneText} LIKE '%-%')`;
  const instant = `make_timestamp(epoch_us(TRY_CAST(${t} AS TIMESTAMPTZ)))`;
  return `(CASE WHEN ${hasOffset} THEN ${instant} ELSE TRY_CAST(${t} AS ${duckdbType(type)}) END)`;
}

/**
 * DuckDB: the instant of wall time `ts` in `zone` by java.time's rule, explicitly. DuckDB's timezone(zone, ts) (ICU)
 * moves a gap forward as java.time does but takes the later instant in an overlap. So: the two offsets in effect a
 * day before and a day after (a zone changes offset at most once in two days), each giving a candidate instant
 * ts - offset; a candidate whose wall time in the zone is ts is real; the earlier real one wins (an overlap has
 * two), and with none (a gap) the one from the offset before, which is the gap moved forward. timezone('UTC', …)
 * converts between TIMESTAMP and TIMESTAMPTZ without the session's TimeZone.
 */
function duckdbZonedToUtc(ts: string, zone: string): string {
  const z = quoteSql(zone);
  const wall = (instant: string) => `timezone(${z}, timezone('UTC', ${instant}))`;
  const candidate = (shift: string) => `(${ts} - (${wall(`${ts} ${shift}`)} - (${ts} ${shift})))`;
  const [before, after] = [candidate('- INTERVAL 1 DAY'), candidate('+ INTERVAL 1 DAY')];
  const real = (c: string) => `(${wall(c)} = ${ts})`;
  return `(CASE WHEN ${real(before)} AND ${real(after)} THEN least(${before}, ${after}) WHEN ${real(after)} THEN ${after} ELSE ${before} END)`;
}

export const duckdb: Dialect = {
  quote: quoteSql,
  // The four characters in one literal (a DuckDB literal holds tabs and line ends as they are).
  trim: (x) => `trim(${x}, ' \t\n\r')`,
  fullMatch: (x, pattern) => `regexp_full_match(${x}, ${quoteSql(pattern)})`,
  tryCast: (x, type) => `TRY_CAST(${x} AS ${duckdbType(type)})`,
  utcTimestamp: duckdbUtcTimestamp,
  zonedToUtc: duckdbZonedToUtc,
};

export const sparkSql: Dialect = {
  // Spark SQL joins adjacent literals ('a''b' is 'ab'), so a quote inside one is escaped with a backslash.
  quote: (text) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
  trim: (x) => `trim(BOTH concat(' ', char(9), char(10), char(13)) FROM ${x})`,
  fullMatch: (x, pattern) => `(${x} rlike '^(${pattern})$')`,
  // spark.sql.ansi.enabled is pinned to false by the job: a cast that cannot be made yields NULL, which the
  // contract counts as a bad row (validity is decided by the pattern first, the NULL is the range check).
  tryCast: (x, type) => `CAST(${x} AS ${type.name})`,
  utcTimestamp: sparkUtcTimestamp,
  // java.time's LocalDateTime.atZone: a gap moves forward, an overlap takes the earlier offset (Spark's
  // DateTimeUtils.convertTz, which to_utc_timestamp uses).
  zonedToUtc: (ts, zone) => `to_utc_timestamp(${ts}, ${sparkSql.quote(zone)})`,
};

export interface ColumnSql {
  /** TRUE when the input is NULL/empty or a valid value of the type. */
  valid: string;
  /** The typed value: NULL exactly when the input is NULL/blank or not valid. */
  value: string;
  /** The trimmed text of `x` (for string: `x` itself). */
  trimmed: string;
  /** The value computed from an already trimmed text column `t` (lets an engine trim once). */
  valueOf(t: string): string;
  /** Validity given the trimmed text column `t` (as `trimmed` computes it) and the value column `v`: blank, or a value. */
  validOf(t: string, v: string): string;
}

/**
 * Validation and cast SQL for one input text column `x`. The value is NULL exactly when the input is missing
 * (NULL, blank) or invalid, so validity is "a value, or nothing to convert": `v IS NOT NULL OR blank`, which an
 * engine evaluates once per value and checks the blank only where the value is NULL.
 */
export function columnSql(
  dialect: Dialect,
  type: TargetType,
  x: string,
  options: ReadOptions = DEFAULT_READ_OPTIONS,
): ColumnSql {
  /** `t` is one of `markers` (one marker renders as `=`, so the default [''] renders as it always did). */
  const isMarker = (t: string, markers: string[]): string =>
    markers.length === 1
      ? `${t} = ${dialect.quote(markers[0] ?? '')}`
      : `${t} IN (${markers.map(dialect.quote).join(', ')})`;
  if (type.base === 'string') {
    const markers = options.nullValues;
    const valueOf = (t: string) =>
      markers.length === 0 ? t : `(CASE WHEN ${isMarker(t, markers)} THEN NULL ELSE ${t} END)`;
    return { valid: 'TRUE', value: valueOf(x), trimmed: x, valueOf, validOf: () => 'TRUE' };
  }
  // Other types: blank is always missing (nothing to convert), and so is a trimmed text equal to a marker.
  const markers = options.nullValues.filter((m) => m.trim() !== '');
  const zoned = options.timeZone !== 'UTC';
  const typedOf = (t: string): string => {
    // Every pattern needs a non-blank character, so a blank text never matches and gets NULL.
    const matches = (pattern: string, of = t) => dialect.fullMatch(of, pattern);
    switch (type.base) {
      case 'boolean':
        return `(CASE WHEN ${matches(PATTERNS.boolean, `lower(${t})`)} THEN lower(${t}) IN ('true', '1') END)`;
      case 'timestamp': {
        // A zone in the text wins; a text without one is a wall time in the source's zone.
        const instant = zoned
          ? `(CASE WHEN ${matches(ZONED_TIMESTAMP)} THEN ${dialect.utcTimestamp(t, type)} ELSE ${dialect.zonedToUtc(dialect.tryCast(t, type), options.timeZone)} END)`
          : dialect.utcTimestamp(t, type);
        return `(CASE WHEN ${matches(PATTERNS.timestamp)} THEN ${instant} END)`;
      }
      case 'double': {
        const typed = dialect.tryCast(t, type);
        return `(CASE WHEN ${matches(PATTERNS.double)} AND abs(${typed}) <= ${MAX_DOUBLE} THEN ${typed} END)`;
      }
      default:
        return `(CASE WHEN ${matches(PATTERNS[type.base as keyof typeof PATTERNS])} THEN ${dialect.tryCast(t, type)} END)`;
    }
  };
  const valueOf = (t: string): string =>
    markers.length === 0 ? typedOf(t) : `(CASE WHEN ${isMarker(t, markers)} THEN NULL ELSE ${typedOf(t)} END)`;
  const missing = (t: string) => (markers.length === 0 ? `${t} = ''` : `${t} = '' OR ${isMarker(t, markers)}`);
  const trimmed = dialect.trim(x);
  // trim(x) is NULL exactly when x is, so a trimmed column answers both questions without trimming again.
  const validOf = (t: string, v: string) => `(${v} IS NOT NULL OR ${t} IS NULL OR ${missing(t)})`;
  const value = valueOf(trimmed);
  return { valid: `(${value} IS NOT NULL OR ${x} IS NULL OR ${missing(trimmed)})`, value, trimmed, valueOf, validOf };
}

export function badValueReason(mapping: ColumnMapping): string {
  return `${mapping.source} is not ${mapping.type}`;
}

export function missingColumnReason(file: string, columns: string[]): string {
  return `file '${file}' lacks column${columns.length > 1 ? 's' : ''} ${columns.map((c) => `'${c}'`).join(', ')}`;
}

/** Glue/Athena type of a partition key as the config declares it. */
export function partitionColumnType(type: 'string' | 'int' | 'date'): 'string' | 'int' | 'date' {
  return type;
}

export function duckdbPartitionType(type: 'string' | 'int' | 'date'): string {
  return { string: 'VARCHAR', int: 'INTEGER', date: 'DATE' }[type];
}

/** Name of the text column the readers give mapping i (both engines). */
export const inputColumn = (i: number): string => `v${i}`;

export const CONTRACT_VERSION = 1;

export interface GlueContract {
  version: number;
  format: 'csv' | 'json' | 'parquet';
  missingColumns: MissingColumnPolicy;
  /** Spark settings the job pins before reading anything. */
  sparkConf: Record<string, string>;
  columns: Array<{
    source: string;
    target: string;
    type: string;
    /** Spark SQL over the text column `input`: TRUE when valid (NULL/empty included). */
    valid: string;
    /** Spark SQL giving the typed value. */
    value: string;
    input: string;
    reason: string;
    /** JSON only: the get_json_object path of the member. */
    jsonPath?: string;
  }>;
}

/** Spark's get_json_object path for a top-level member; bracket form so dots and spaces in names are safe. */
export function sparkJsonPath(member: string): string {
  if (/['\]\\]/.test(member))
    throw new CastContractError(`JSON member name ${JSON.stringify(member)} cannot be addressed by a Spark JSON path`);
  return `$['${member}']`;
}

/** The contract the Glue job applies, generated from the mapping (the script only evaluates these strings). */
export function glueContract(
  format: 'csv' | 'json' | 'parquet',
  mapping: ColumnMapping[],
  missingColumns: MissingColumnPolicy,
  options: ReadOptions = DEFAULT_READ_OPTIONS,
): GlueContract {
  return {
    version: CONTRACT_VERSION,
    format,
    missingColumns,
    sparkConf: {
      // Pinned, not left to the Glue version's default: bad values are counted by the contract, never a job
      // failure (ANSI on, Spark 4's default) nor an implicit truncation (the contract rejects '1.5' first).
      'spark.sql.ansi.enabled': 'false',
      'spark.sql.session.timeZone': 'UTC',
      'spark.sql.parser.escapedStringLiterals': 'false',
    },
    columns: mapping.map((m, i) => {
      const input = inputColumn(i);
      const sql = columnSql(sparkSql, parseTargetType(m.type), input, options);
      return {
        source: m.source,
        target: m.target,
        type: m.type,
        input,
        valid: sql.valid,
        value: sql.value,
        reason: badValueReason(m),
        ...(format === 'json' ? { jsonPath: sparkJsonPath(m.source) } : {}),
      };
    }),
  };
}

export function missingColumnPolicyOf(dataset: { job: { missingColumns?: MissingColumnPolicy } }): MissingColumnPolicy {
  return dataset.job.missingColumns ?? 'bad-rows';
}

/**
 * Glue refuses job arguments over 260 KB in total ("Job arguments have a maximum size limit of 260KB",
 * https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-glue-arguments.html). The contract is about
 * 0.5–1 KB per mapped column; this budget leaves room for the other arguments.
 */
export const CONTRACT_ARGUMENT_BUDGET_BYTES = 200_000;

/** Job arguments carrying the contract (spread into the run's arguments by jobArguments). */
export function glueContractArguments(dataset: {
  name?: string;
  raw: { format: 'csv' | 'json' | 'parquet'; nullValues?: string[]; timeZone?: string };
  mapping: ColumnMapping[];
  job: { missingColumns?: MissingColumnPolicy };
}): Record<string, string> {
  const policy = missingColumnPolicyOf(dataset);
  const contract = JSON.stringify(glueContract(dataset.raw.format, dataset.mapping, policy, readOptionsOf(dataset)));
  const bytes = Buffer.byteLength(contract, 'utf8');
  if (bytes > CONTRACT_ARGUMENT_BUDGET_BYTES)
    throw new CastContractError(
      `the cast contract of dataset '${dataset.name ?? '?'}' is ${bytes} bytes, over the ${CONTRACT_ARGUMENT_BUDGET_BYTES}-byte budget for Glue job arguments (260 KB in all): map fewer columns per dataset`,
    );
  return { '--sluice_contract': contract, '--sluice_missing_columns': policy };
}

/** The contract's DuckDB value expression for one text column (e.g. for a direct COPY that must cast alike). */
export function duckdbCast(type: string, column: string, options: ReadOptions = DEFAULT_READ_OPTIONS): string {
  return columnSql(duckdb, parseTargetType(type), column, options).value;
}

const BOM = '\uFEFF';

/** Fields of one CSV line, RFC 4180 quoting (doubled quotes inside quoted fields). */
export function splitCsvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

/**
 * Header names as the contract matches them: UTF-8 BOM dropped, quotes removed, spaces/tabs around each name
 * trimmed. Matching against the mapping's source names is then exact (case-sensitive), the same on both engines
 * (convert_partition.py normalize_header) and in the schema fingerprints (schema-drift.ts).
 */
export function csvHeaderNames(firstLine: string): string[] {
  const line = (firstLine.startsWith(BOM) ? firstLine.slice(1) : firstLine).replace(/\r$/, '');
  return splitCsvFields(line).map((name) => name.replace(/^[ \t]+|[ \t]+$/g, ''));
}
