/**
 * The DuckDB rendering of the timestamp contract (one regular expression, then DuckDB's own casts) against the
 * rendering it replaced (the pattern, an offset test and five regexp_extract calls, the offset subtracted by hand),
 * which stays here as the oracle. Issue 14 replaced it because each regular expression is compiled per statement,
 * and the local job binds one statement per partition.
 *
 * Both must give the same verdict and the same instant for any text, whatever the session's TimeZone: a TIMESTAMPTZ
 * cast reads a text without offset in that zone, which the new rendering must never let through.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { columnSql, duckdb, parseTargetType, PATTERNS } from '../../domain/rows/cast-contract';
import { quoteString } from '../../adapters/local/duckdb';
import { valueCases } from './table';

const TIMESTAMP = parseTargetType('timestamp');

/** The rendering before issue 14, verbatim, over the trimmed text column t. */
function regexpExtractRendering(t: string): string {
  const offset = '([+-])([0-9]{2}):?([0-9]{2})?$';
  const local = `concat(regexp_extract(${t}, '^([0-9-]{10})[T ]([0-9:.]+)', 1), ' ', regexp_extract(${t}, '^([0-9-]{10})[T ]([0-9:.]+)', 2))`;
  const zone = (group: number) => `regexp_extract(${t}, '${offset}', ${group})`;
  const offsetMinutes = `(CASE WHEN ${zone(1)} = '-' THEN -1 ELSE 1 END) * (CAST(${zone(2)} AS INT) * 60 + COALESCE(CAST(NULLIF(${zone(3)}, '') AS INT), 0))`;
  const shifted = `(TRY_CAST(${local} AS TIMESTAMP) - to_minutes(CAST(${offsetMinutes} AS BIGINT)))`;
  return `(CASE WHEN regexp_full_match(${t}, ${quoteString(PATTERNS.timestamp)}) THEN (CASE WHEN regexp_matches(${t}, '${offset}') THEN ${shifted} ELSE TRY_CAST(${t} AS TIMESTAMP) END) END)`;
}

const ZONES = ['UTC', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham'];

let instance: DuckDBInstance;
const sessions = new Map<string, DuckDBConnection>();

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  for (const zone of ZONES) {
    const connection = await instance.connect();
    await connection.run(`SET TimeZone = ${quoteString(zone)}`);
    sessions.set(zone, connection);
  }
});

afterAll(() => {
  for (const connection of sessions.values()) connection.closeSync();
  instance.closeSync();
});

interface Verdict {
  text: string | null;
  now: string | null;
  before: string | null;
  valid: boolean;
}

/** Both renderings over many texts in one statement, in one session. */
async function verdicts(zone: string, texts: Array<string | null>): Promise<Verdict[]> {
  const sql = columnSql(duckdb, TIMESTAMP, 'v');
  const rows = texts.map((text, i) => `(${i}, ${text === null ? 'NULL' : quoteString(text)})`).join(', ');
  const result = await sessions.get(zone)!.runAndReadAll(
    `SELECT v AS text, CAST(${sql.value} AS VARCHAR) AS now, CAST(${regexpExtractRendering(sql.trimmed)} AS VARCHAR) AS before,
            ${sql.valid} AS valid
     FROM (VALUES ${rows}) AS input(i, v) ORDER BY i`,
  );
  return result.getRowObjectsJson() as unknown as Verdict[];
}

const pick = <T>(...values: T[]) => fc.constantFrom(...values);
const padded = (min: number, max: number, width = 2) =>
  fc.integer({ min, max }).map((n) => String(n).padStart(width, '0'));
/** Mostly in range, sometimes at or past an edge, sometimes any digits. */
const part = (min: number, max: number, edges: string[], width = 2) =>
  fc.oneof(
    { weight: 8, arbitrary: padded(min, max, width) },
    { weight: 1, arbitrary: pick(...edges) },
    { weight: 1, arbitrary: padded(0, 10 ** width - 1, width) },
  );

/** Texts near the pattern: real and impossible dates and times, every zone form, and a little noise. */
const timestampLike = fc
  .record({
    year: part(1, 9999, ['0000', '0001', '1969', '1970', '9999'], 4),
    month: part(1, 12, ['00', '13']),
    day: part(1, 28, ['29', '30', '31', '32', '00']),
    sep: fc.oneof({ weight: 8, arbitrary: pick('T', ' ') }, { weight: 1, arbitrary: pick('t', '_', '') }),
    hour: part(0, 23, ['24', '99']),
    minute: part(0, 59, ['60']),
    second: part(0, 59, ['60', '61']),
    fraction: fc.oneof(
      pick(''),
      fc.integer({ min: 1, max: 6 }).chain((n) => padded(0, 10 ** n - 1, n).map((d) => `.${d}`)),
      pick('.', '.1234567'),
    ),
    zone: fc.oneof(
      { weight: 2, arbitrary: pick('', 'Z') },
      { weight: 1, arbitrary: pick('z', 'UTC', '+', '-', '+5', '+05:3') },
      {
        weight: 6,
        arbitrary: fc
          .tuple(
            pick('+', '-'),
            part(0, 23, ['24', '99']),
            pick('', ':', ''),
            fc.oneof(pick(''), part(0, 59, ['60', '99'])),
          )
          .map((p) => p.join('')),
      },
    ),
    space: fc.oneof({ weight: 4, arbitrary: pick('') }, { weight: 1, arbitrary: pick(' ', '\t', ' \n') }),
    noise: fc.oneof({ weight: 12, arbitrary: pick('') }, { weight: 1, arbitrary: fc.string({ maxLength: 3 }) }),
  })
  .map(
    (p) =>
      `${p.space}${p.year}-${p.month}-${p.day}${p.sep}${p.hour}:${p.minute}:${p.second}${p.fraction}${p.zone}${p.noise}${p.space}`,
  );

test('the value table timestamps: both renderings agree', async () => {
  const texts = valueCases.filter((c) => c.type === 'timestamp').map((c) => c.input);
  for (const zone of ZONES)
    for (const v of await verdicts(zone, texts))
      expect({ zone, text: v.text, value: v.now }).toEqual({ zone, text: v.text, value: v.before });
});

test('any text, in any session time zone: the same verdict and the same instant as the regexp_extract rendering', async () => {
  let valid = 0;
  let withOffset = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(timestampLike, { minLength: 100, maxLength: 100 }),
      fc.constantFrom(...ZONES),
      async (texts, zone) => {
        for (const v of await verdicts(zone, texts)) {
          expect({ zone, text: v.text, value: v.now }).toEqual({ zone, text: v.text, value: v.before });
          // Valid exactly when there is a value (never a silent NULL for a valid text, never a value for a bad one).
          expect(v.valid).toBe(v.now !== null || (v.text ?? '').trim() === '');
          if (v.now !== null) {
            valid += 1;
            if (/[+-]/.test((v.text ?? '').trim().slice(19))) withOffset += 1;
          }
        }
      },
    ),
    { numRuns: 40 },
  );
  // The generator reaches what matters: many valid texts, many of them with a numeric offset.
  expect(valid).toBeGreaterThan(400);
  expect(withOffset).toBeGreaterThan(250);
});

test('the DuckDB rendering compiles one regular expression, the pattern', () => {
  const value = columnSql(duckdb, TIMESTAMP, 'v').value;
  expect(value.match(/regexp_/g)).toEqual(['regexp_']);
  expect(value).toContain(`regexp_full_match(trim(v, ' \t\n\r'), ${quoteString(PATTERNS.timestamp)})`);
});
