/**
 * The Glue side of the cast contract, as text: the generated Spark SQL per type (pinned in
 * glue-contract.expected.json, so any change to the contract shows in review), the same patterns as the DuckDB side
 * (checked with a third regex engine, Python's, over the whole value table), the Spark settings pinned by the job,
 * and the script's own file, header and text rules against the conformance files. The script itself runs on Spark
 * in tests/spark/ (npm run test:spark), where its outputs are compared with the local engine's row by row.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  columnSql,
  duckdb,
  glueContract,
  glueContractArguments,
  parseTargetType,
  PATTERNS,
  sparkSql,
  csvHeaderNames,
} from '../../domain/rows/cast-contract';
import { loadConfigFile, parseRawKey } from '../../domain/config';
import { jobArguments } from '../../domain/steps/jobs';
import { isTextHead } from '../../adapters/local/glue';
import { testConfig } from '../support/fakes';
import { DEFAULT_MAPPING, expectedOf, fileCases, formatOf, valueCases } from './table';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'adapters', 'aws', 'glue', 'convert_partition.py');
const FILES = join(__dirname, 'files');

/** Runs Python with the script loaded as module `cp`; `input` arrives as JSON in `data`. */
function python(code: string, input: unknown): unknown {
  const prelude = [
    'import importlib.util, json, re, sys',
    `spec = importlib.util.spec_from_file_location("cp", ${JSON.stringify(SCRIPT)})`,
    'cp = importlib.util.module_from_spec(spec); spec.loader.exec_module(cp)',
    'data = json.loads(sys.stdin.read())',
  ].join('\n');
  const out = execFileSync('python3', ['-c', `${prelude}\n${code}`], { input: JSON.stringify(input) });
  return JSON.parse(out.toString());
}

test('the script compiles', () => {
  expect(() => execFileSync('python3', ['-m', 'py_compile', SCRIPT])).not.toThrow();
});

test('the dev config contract, as the Glue job receives it, is pinned', () => {
  const config = loadConfigFile(join(ROOT, 'config', 'dev.json'));
  const received = Object.fromEntries(
    config.datasets.map((d) => [d.name, JSON.parse(glueContractArguments(d)['--sluice_contract'] ?? '{}')]),
  );
  const expected = JSON.parse(readFileSync(join(__dirname, 'glue-contract.expected.json'), 'utf8'));
  expect(received).toEqual(expected);
});

test('job runs carry the contract (jobArguments)', () => {
  const dataset = testConfig().datasets[0]!;
  const args = jobArguments(dataset, { year: '2024', month: '01', day: '05' }, 'sk1-x');
  expect(JSON.parse(args['--sluice_contract'] ?? 'null')).toEqual(
    glueContract(dataset.raw.format, dataset.mapping, 'bad-rows'),
  );
  expect(args['--sluice_missing_columns']).toBe('bad-rows');
});

test('a contract too large for Glue job arguments is refused with a reason, before any run', () => {
  const wide = Array.from({ length: 400 }, (_, i) => ({ source: `c${i}`, target: `c${i}`, type: 'timestamp' }));
  expect(() => glueContractArguments({ name: 'wide', raw: { format: 'csv' }, mapping: wide, job: {} })).toThrow(
    /cast contract of dataset 'wide' is \d+ bytes, over the 200000-byte budget/,
  );
  const dev = loadConfigFile(join(ROOT, 'config', 'dev.json'));
  for (const d of dev.datasets)
    expect(Buffer.byteLength(glueContractArguments(d)['--sluice_contract'] ?? '')).toBeLessThan(10_000);
});

test('every argument the script requires is one the start step passes', () => {
  const required = python('print(json.dumps(cp.ARGS))', null) as string[];
  const dataset = testConfig().datasets[0]!;
  const passed = Object.keys(jobArguments(dataset, { year: '2024', month: '01', day: '05' }, 'sk1-x'));
  // JOB_NAME is Glue's own; every other --name the script resolves must be in the run's arguments.
  expect(required.filter((a) => a !== 'JOB_NAME').filter((a) => !passed.includes(`--${a}`))).toEqual([]);
});

test('the job pins ANSI off, the UTC session zone and escaped literals off, and applies only the contract', () => {
  const contract = glueContract('csv', DEFAULT_MAPPING, 'bad-rows');
  expect(contract.sparkConf).toEqual({
    'spark.sql.ansi.enabled': 'false',
    'spark.sql.session.timeZone': 'UTC',
    'spark.sql.parser.escapedStringLiterals': 'false',
  });
  const script = readFileSync(SCRIPT, 'utf8');
  expect(script).toContain('for key, value in contract["sparkConf"].items():\n        spark.conf.set(key, value)');
  expect(script).toContain('F.expr(c["valid"])');
  expect(script).toContain('F.expr(c["value"])');
  // The old implicit rule (cast the text straight to the target type and call NULL a bad value) is gone.
  expect(script).not.toMatch(/cast\("string"\)\.cast\(m\["type"\]\)/);
});

describe('Spark SQL is the DuckDB SQL in the other dialect', () => {
  const types = [...new Set(valueCases.map((c) => c.type))];
  test.each(types)('%s uses the same patterns, and no backslash reaches a Spark literal', (type) => {
    const t = parseTargetType(type);
    const spy = (dialect: typeof sparkSql, seen: string[]): typeof sparkSql => ({
      ...dialect,
      fullMatch: (x, pattern) => {
        seen.push(pattern);
        return dialect.fullMatch(x, pattern);
      },
    });
    const sparkPatterns: string[] = [];
    const duckPatterns: string[] = [];
    const spark = columnSql(spy(sparkSql, sparkPatterns), t, 'v0');
    columnSql(spy(duckdb, duckPatterns), t, 'v0');
    for (const p of sparkPatterns) expect(spark.valid).toContain(`rlike '^(${p})$'`);
    expect(sparkPatterns).toEqual(duckPatterns);
    expect(`${spark.valid}${spark.value}`).not.toContain('\\');
    if (t.base !== 'string') expect(sparkPatterns[0]).toBe(PATTERNS[t.base]);
  });

  test('a third regex engine (Python) agrees with DuckDB on every pattern over the value table', () => {
    // DuckDB's verdict on the shape is the table's: a valid non-blank value matched; for invalid ones the
    // pattern or the range/calendar check failed. Python must never reject what DuckDB's pattern accepted.
    const rows = valueCases
      .filter((c) => c.type !== 'string' && c.input !== null && c.input.trim() !== '')
      .map((c) => ({
        pattern: PATTERNS[parseTargetType(c.type).base as keyof typeof PATTERNS],
        text: c.type === 'boolean' ? c.input!.trim().toLowerCase() : c.input!.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, ''),
        valid: c.valid,
      }));
    const matched = python(
      'print(json.dumps([re.fullmatch(r["pattern"], r["text"]) is not None for r in data]))',
      rows,
    ) as boolean[];
    rows.forEach((r, i) => {
      if (r.valid) expect({ ...r, matched: matched[i] }).toMatchObject({ matched: true });
    });
    // And the invalid ones that are invalid by shape alone are rejected by Python's reading of the pattern too.
    const shapeOnly = ['1.5', '1e3', '0x1F', 'NaN', 'yes', '2024-1-5', 'yesterday', '2024-01-05 24:00:00'];
    rows.forEach((r, i) => {
      if (!r.valid && shapeOnly.includes(r.text))
        expect({ ...r, matched: matched[i] }).toMatchObject({ matched: false });
    });
  });
});

describe("the script's reading rules match the local engine's on the conformance files", () => {
  const csvCases = fileCases.filter((c) => formatOf(c) === 'csv');
  test.each(csvCases)('%s: same header names and same missing columns', (caseName) => {
    const mapping = expectedOf(caseName).mapping ?? DEFAULT_MAPPING;
    // Binary files are refused before any header is read (both engines; the text check below).
    const files = readdirSync(join(FILES, caseName))
      .filter((f) => f.endsWith('.csv'))
      .filter((f) => isTextHead(readFileSync(join(FILES, caseName, f)).subarray(0, 65536)));
    const firstLines = files.map((f) => readFileSync(join(FILES, caseName, f), 'utf8').split('\n')[0] ?? '');
    const fromPython = python(
      'print(json.dumps([[cp.normalize_header(l), cp.lacking_columns(cp.normalize_header(l), data["mapping"])] for l in data["lines"]]))',
      { lines: firstLines, mapping },
    );
    const fromTs = firstLines.map((l) => {
      const header = csvHeaderNames(l);
      return [header, mapping.filter((m) => !header.includes(m.source)).map((m) => m.source)];
    });
    expect(fromPython).toEqual(fromTs);
  });

  test('the same keys are data files', () => {
    const config = testConfig();
    const dir = 'orders/year=2024/month=01/day=05/';
    const names = ['a.csv', '_SUCCESS', '.hidden', 'sub/x.csv', 'report 100%.csv', 'file+v2%20final.csv', '_tmp/x'];
    const fromPython = python(
      'print(json.dumps([cp.is_data_key(data["dir"], data["dir"] + n, 10) for n in data["names"]]))',
      { dir, names },
    ) as boolean[];
    expect(fromPython).toEqual(names.map((n) => parseRawKey(config, dir + n).ok));
    expect(python('print(json.dumps(cp.is_data_key(data, data + "a.csv", 0)))', dir)).toBe(false);
  });

  test('the same first bytes are text (UTF-8, no NUL; the last 3 bytes of a full read unchecked: a character may be cut there)', () => {
    const heads = [
      Buffer.from('id,amount\n1,2\n'),
      Buffer.from([0x69, 0x64, 0x00, 0x0a]),
      Buffer.from([0xc3, 0x28]),
      Buffer.concat([Buffer.alloc(65533, 0x61), Buffer.from('€')]).subarray(0, 65536),
      Buffer.concat([Buffer.alloc(65530, 0x61), Buffer.from([0xff]), Buffer.alloc(5, 0x61)]),
      Buffer.from('é,ü\n'),
    ];
    const fromPython = python(
      'print(json.dumps([cp.text_head(bytes.fromhex(h)) is not None for h in data]))',
      heads.map((h) => h.toString('hex')),
    );
    expect(fromPython).toEqual(heads.map((h) => isTextHead(h)));
    expect(fromPython).toEqual([true, false, false, true, false, true]);
  });

  test('missing-column reasons are worded alike', () => {
    expect(python('print(json.dumps(cp.missing_column_reason("b.csv", ["customer"])))', null)).toBe(
      "file 'b.csv' lacks column 'customer'",
    );
  });
});
