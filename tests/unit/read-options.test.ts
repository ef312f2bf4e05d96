/** raw.nullValues and raw.timeZone (issue 25): validated once at load, with defaults, and carried to both engines. */
import { glueContractArguments, readOptionsOf } from '../../domain/rows';
import { parseConfig } from '../../domain/config/config';

function config(raw: Record<string, unknown>) {
  return parseConfig(
    {
      stage: 'unit',
      lake: { rawBucket: 'raw-bucket', curatedBucket: 'curated-bucket' },
      datasets: [
        {
          name: 'flights',
          raw: { prefix: 'flights/', format: 'csv', ...raw },
          partitioning: { style: 'hive', keys: [{ name: 'month', type: 'string', pattern: '^[0-9]{2}$' }] },
          target: { database: 'curated', table: 'flights', locationTemplate: 'flights/month={month}/' },
          mapping: [{ source: 'dep_time', target: 'dep_time', type: 'int' }],
        },
      ],
    },
    'unit',
  );
}

test("defaults: [''] and UTC, the contract as it always was", () => {
  const d = config({}).datasets[0]!;
  expect(readOptionsOf(d)).toEqual({ nullValues: [''], timeZone: 'UTC' });
});

test('markers and zone reach the Glue contract as Spark SQL', () => {
  const d = config({ nullValues: ['NA', '\\N'], timeZone: 'America/New_York' }).datasets[0]!;
  const contract = JSON.parse(glueContractArguments(d)['--sluice_contract']!);
  expect(contract.columns[0].value).toContain("IN ('NA', '\\\\N')");
});

test('an unknown zone or an offset is refused at load, naming the field', () => {
  expect(() => config({ timeZone: 'America/Nowhere' })).toThrow(
    /raw\/timeZone 'America\/Nowhere' is not an IANA time zone name/,
  );
  expect(() => config({ timeZone: '+05:00' })).toThrow(/timeZone/);
  expect(() => config({ nullValues: ['NA', 'NA'] })).toThrow(/nullValues/);
});
