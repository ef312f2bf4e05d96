/** The conformance table's data, shared by the local-engine and the Glue-contract suites. */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { ColumnMapping } from '../../schemas/types.generated';

const HERE = __dirname;
export const FILES = join(HERE, 'files');

export interface ValueCase {
  type: string;
  input: string | null;
  valid: boolean;
  value: string | null;
}

export interface FileCase {
  state: 'SUCCEEDED' | 'FAILED';
  mapping?: ColumnMapping[];
  missingColumns?: 'bad-rows' | 'fail';
  /** raw.* settings of the case's dataset (nullValues, timeZone). */
  raw?: { nullValues?: string[]; timeZone?: string };
  /** The dataset's job.maxBadRowsFraction; the table's cases default to 1 (never fail on bad rows). */
  maxBadRowsFraction?: number;
  error?: string;
  /** A regular expression the engine's error must match (for errors worded by the engine). */
  errorMatches?: string;
  rows?: Array<Array<string | null>>;
  badRows?: number;
  rejects?: Array<{ reason: string; file: string }>;
}

export const DEFAULT_MAPPING: ColumnMapping[] = [
  { source: 'id', target: 'order_id', type: 'bigint' },
  { source: 'amount', target: 'amount', type: 'decimal(12,2)' },
  { source: 'customer', target: 'customer', type: 'string' },
];

export const valueCases = (JSON.parse(readFileSync(join(HERE, 'values.json'), 'utf8')) as { cases: ValueCase[] }).cases;

export const fileCases = readdirSync(FILES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

export function formatOf(caseName: string): 'csv' | 'json' | 'parquet' {
  const ext = readdirSync(join(FILES, caseName))
    .map((f) => extname(f).slice(1))
    .find((e) => e !== '' && e !== 'json' && e !== 'sql');
  if (caseName.startsWith('json-')) return 'json';
  return ext === 'parquet' ? 'parquet' : 'csv';
}

export function expectedOf(caseName: string): FileCase {
  return JSON.parse(readFileSync(join(FILES, caseName, 'expected.json'), 'utf8')) as FileCase;
}
