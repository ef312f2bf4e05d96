/**
 * The drift corpus (issue 24): small sets of raw files, each with its expected drift class per file and the
 * expected crawler decision for the set, against a dataset whose earlier files (the base) were crawled already.
 * Parquet files are written by DuckDB at set-up, so the footers are real.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ColumnMapping } from '../../schemas/types.generated';
import type { DriftClass, RawFormat } from '../../domain/drift/schema-drift';

export const MAPPING: ColumnMapping[] = [
  { source: 'id', target: 'id', type: 'int' },
  { source: 'name', target: 'name', type: 'string' },
  { source: 'amount', target: 'amount', type: 'double' },
];

export type Expected = DriftClass | 'unreadable';

export interface CorpusFile {
  /** Partition folder and file name, e.g. `day=1/a.csv`. */
  path: string;
  /** File text, or a DuckDB SELECT whose result is written as Parquet. */
  text?: string;
  parquetSelect?: string;
  bytes?: Buffer;
  expected: Expected;
}

export interface DriftCase {
  name: string;
  format: RawFormat;
  files: CorpusFile[];
  expectCrawl: boolean;
}

/** The files the dataset had when it was last crawled: their fingerprints are the ones already seen. */
export const BASE: Record<RawFormat, CorpusFile> = {
  csv: { path: 'day=0/base.csv', text: 'id,name,amount\n1,a,1.5\n', expected: 'none' },
  json: { path: 'day=0/base.json', text: '{"id":1,"name":"a","amount":1.5}\n', expected: 'none' },
  parquet: {
    path: 'day=0/base.parquet',
    parquetSelect: "SELECT 1::INTEGER AS id, 'a' AS name, 1.5::DOUBLE AS amount",
    expected: 'none',
  },
};

const csv = (path: string, text: string, expected: Expected): CorpusFile => ({ path, text, expected });
const lateKeyLines = (): string => {
  // More than the 64 KiB head of lines without `amount`, then lines with it: the sample never sees it.
  const early = '{"id":1,"name":"a"}\n'.repeat(4000);
  return `${early}{"id":2,"name":"b","amount":2.5}\n`;
};

export const CORPUS: DriftCase[] = [
  {
    name: 'csv column added',
    format: 'csv',
    files: [csv('day=1/a.csv', 'id,name,amount,region\n1,a,1,eu\n', 'additive')],
    expectCrawl: true,
  },
  {
    name: 'csv mapped column dropped',
    format: 'csv',
    files: [csv('day=1/a.csv', 'id,name\n1,a\n', 'breaking')],
    expectCrawl: true,
  },
  {
    name: 'csv column renamed',
    format: 'csv',
    files: [csv('day=1/a.csv', 'id,full_name,amount\n1,a,1\n', 'breaking')],
    expectCrawl: true,
  },
  {
    name: 'csv columns reordered',
    format: 'csv',
    files: [csv('day=1/a.csv', 'amount,id,name\n1,1,a\n', 'none')],
    expectCrawl: false,
  },
  {
    name: 'csv header spaces and quotes',
    format: 'csv',
    files: [csv('day=1/a.csv', ' "id" ,\tname , amount\r\n1,a,1\r\n', 'none')],
    expectCrawl: false,
  },
  {
    name: 'csv header case changed',
    format: 'csv',
    files: [csv('day=1/a.csv', 'ID,Name,amount\n1,a,1\n', 'breaking')],
    expectCrawl: true,
  },
  {
    name: 'csv with a BOM',
    format: 'csv',
    files: [csv('day=1/a.csv', '\uFEFFid,name,amount\n1,a,1\n', 'none')],
    expectCrawl: false,
  },
  {
    name: 'csv extra trailing delimiter',
    format: 'csv',
    files: [csv('day=1/a.csv', 'id,name,amount,\n1,a,1,\n', 'none')],
    expectCrawl: false,
  },
  {
    name: 'csv binary file',
    format: 'csv',
    files: [
      {
        path: 'day=1/a.csv',
        bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe, 0x00, 0x0a]),
        expected: 'unreadable',
      },
    ],
    expectCrawl: false,
  },
  {
    name: 'json key added',
    format: 'json',
    files: [csv('day=1/a.json', '{"id":1,"name":"a","amount":1,"region":"eu"}\n', 'additive')],
    expectCrawl: true,
  },
  {
    name: 'json first lines lack a key later lines have',
    format: 'json',
    files: [csv('day=1/a.json', lateKeyLines(), 'none')],
    expectCrawl: false,
  },
  {
    name: 'json array file',
    format: 'json',
    files: [csv('day=1/a.json', '[{"id":1,"name":"a","amount":1}]\n', 'unreadable')],
    expectCrawl: false,
  },
  {
    name: 'parquet column widened int32 to int64',
    format: 'parquet',
    files: [
      {
        path: 'day=1/a.parquet',
        parquetSelect: "SELECT 1::BIGINT AS id, 'a' AS name, 1.5::DOUBLE AS amount",
        expected: 'none',
      },
    ],
    expectCrawl: true,
  },
  {
    name: 'parquet type change that breaks the contract',
    format: 'parquet',
    files: [
      {
        path: 'day=1/a.parquet',
        parquetSelect: "SELECT 1::INTEGER AS id, {'first': 'a'} AS name, 1.5::DOUBLE AS amount",
        expected: 'breaking',
      },
    ],
    expectCrawl: true,
  },
  {
    name: 'a new schema in one partition of several',
    format: 'csv',
    files: [
      csv('day=1/a.csv', 'id,name,amount\n1,a,1\n', 'none'),
      csv('day=2/a.csv', 'name,id,amount\na,2,2\n', 'none'),
      csv('day=3/a.csv', 'id,name,amount,region\n3,c,3,eu\n', 'additive'),
    ],
    expectCrawl: true,
  },
];

/** Writes a file of the corpus under `root` (Parquet through DuckDB). */
export async function materialize(root: string, file: CorpusFile, duck: DuckDBInstance): Promise<void> {
  const path = join(root, file.path);
  mkdirSync(dirname(path), { recursive: true });
  if (file.parquetSelect) {
    const connection = await duck.connect();
    try {
      await connection.run(`COPY (${file.parquetSelect}) TO '${path.replace(/'/g, "''")}' (FORMAT parquet)`);
    } finally {
      connection.closeSync();
    }
  } else writeFileSync(path, file.bytes ?? Buffer.from(file.text ?? '', 'utf8'));
}
