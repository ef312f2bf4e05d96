/**
 * What the local CLI shows, as pure functions (cli/sluice.ts runs them; tests/unit/local-cli-format.test.ts
 * checks them): the Node version check, JSON numbers, keys and paths as the user wrote them.
 */
import { relative, sep } from 'node:path';

// ---------- Node version ----------

/**
 * The problem with running on `version` (process.versions.node) under package.json's `engines.node` range, or
 * null when there is none. Only the `>=A <B` (and bare `>=A`) forms the project uses are understood; anything else
 * is not checked. Why at start: under Node 20, `Promise.withResolvers` is missing and a run failed half-way, at
 * prepareRun, recorded as "FAILED at unknown" with a hint to fix the input (issue 25, item 7).
 */
export function nodeVersionProblem(version: string, range: string | undefined): string | null {
  if (!range) return null;
  const major = Number(version.replace(/^v/, '').split('.')[0]);
  const min = /^>=\s*(\d+)/.exec(range.trim());
  const below = /<\s*(\d+)\s*$/.exec(range.trim());
  if (!min || !Number.isFinite(major)) return null;
  if (major >= Number(min[1]) && (!below || major < Number(below[1]))) return null;
  return (
    `sluice needs Node ${range} (package.json "engines"); this is Node ${version.replace(/^v?/, 'v')} (${process.execPath}).\n` +
    `Run it through npm, which uses the project's own Node 22 (the "node" devDependency): npm start, or\n` +
    `npm run sluice -- <command>. Or put node_modules/.bin first in PATH.`
  );
}

// ---------- JSON numbers ----------

const INTEGER_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;

/** `(sign, digits without leading/trailing zeros, exponent)` of a decimal text, or null when it is not one. */
function canonicalDecimal(text: string): string | null {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text.trim());
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return null;
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  let digits = whole + fraction;
  let power = Number(exponent) - fraction.length;
  digits = digits.replace(/^0+/, '');
  if (digits === '') return '0';
  const trailing = /0*$/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(0, digits.length - trailing);
  power += trailing;
  return `${sign === '-' ? '-' : ''}${digits}e${power}`;
}

/**
 * A value of a query result as JSON: DuckDB hands BIGINT, HUGEINT and DECIMAL over as strings (JavaScript numbers
 * cannot hold every one). The rule (docs/operating.md, "JSON numbers"): an integer or DECIMAL value becomes a JSON
 * number when that number's JSON text denotes exactly the same value (integers up to 2^53 - 1 in magnitude; a
 * DECIMAL whose value a double's shortest text gives back, e.g. 1.50 -> 1.5); otherwise it stays a string, so
 * nothing is rounded. Every other type is as DuckDB gives it.
 */
export function jsonValue(value: unknown, duckdbType: string): unknown {
  if (typeof value !== 'string') return value;
  const type = duckdbType.toUpperCase();
  if (INTEGER_TYPES.test(type)) {
    if (!/^-?\d+$/.test(value)) return value;
    const n = Number(value);
    return Number.isSafeInteger(n) && String(n) === value.replace(/^(-?)0+(?=\d)/, '$1') ? n : value;
  }
  if (/^DECIMAL\(\d+,\s*\d+\)$/.test(type)) {
    const n = Number(value);
    if (!Number.isFinite(n)) return value;
    const same = canonicalDecimal(value) === canonicalDecimal(JSON.stringify(n));
    return same ? (Object.is(n, -0) ? 0 : n) : value;
  }
  return value;
}

/** Every row's values through jsonValue, by the column types of the result (`DESCRIBE <query>`). */
export function jsonRows(rows: Record<string, unknown>[], types: Record<string, string>): Record<string, unknown>[] {
  return rows.map((row) =>
    Object.fromEntries(Object.entries(row).map(([name, value]) => [name, jsonValue(value, types[name] ?? '')])),
  );
}

// ---------- keys and paths as written ----------

/** A local path for the eye: relative to the working folder when inside it, else absolute. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') || rel.startsWith(sep) ? path : rel;
}

/**
 * Text with the local lake's s3:// URIs shown as the files they are (`s3://raw/orders/x.csv` -> `<lake>/raw/orders/
 * x.csv`), for the buckets that are folders of the lake. A URI right after a double quote is left alone: it is
 * inside JSON that is meant to be pasted back (a re-run input), where sluice reads s3:// URIs.
 */
export function localPaths(text: string, lakeDir: string, buckets: readonly string[], cwd = process.cwd()): string {
  if (buckets.length === 0) return text;
  const names = buckets.map((b) => b.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return text.replace(
    new RegExp(`(^|[^"])s3://(${names})(/[^\\s"',;)]*)?`, 'g'),
    (_all, before, bucket, key) => `${before}${displayPath(`${lakeDir}/${bucket}${key ?? ''}`, cwd)}`,
  );
}

/** The dataset of an execution name: the longest configured dataset whose name's execution form starts it. */
export function datasetOfExecution(name: string, datasets: readonly string[]): string | undefined {
  const run = name.split(':').pop() ?? name;
  return [...datasets]
    .sort((a, b) => b.length - a.length)
    .find((d) => run.startsWith(`${d.replace(/_/g, '-').slice(0, 40)}-`));
}
