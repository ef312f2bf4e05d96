import fc from 'fast-check';
import { parseConfig } from '../../domain/config/config';
import { InvalidInputError, InvalidPartitionError } from '../../domain/common';
import { countRange, expandRange } from '../../domain/inputs/partition-range';
import { assertPartition, partitionKey } from '../../domain/config';
import { ORDERS_CONFIG, testConfig } from '../support/fakes';

const config = testConfig();
const orders = config.datasets[0]!;
const clicks = config.datasets[1]!;

/** A config with extra datasets that exercise the other enumeration rules. */
function configWith(keys: Array<{ name: string; type: 'string' | 'int' | 'date'; pattern: string }>) {
  const base = structuredClone(ORDERS_CONFIG) as unknown as {
    datasets: Array<Record<string, unknown>>;
  };
  const template = keys.map((k) => `{${k.name}}`).join('/') + '/';
  base.datasets = [
    {
      name: 'things',
      raw: { prefix: 'things/', format: 'csv' },
      partitioning: { style: 'template', template, keys },
      target: { database: 'curated', table: 'things', locationTemplate: `things/${template}` },
      mapping: [{ source: 'a', target: 'a', type: 'string' }],
    },
  ];
  return parseConfig(base, 'range test config').datasets[0]!;
}

describe('a range of year/month/day keys is stepped through the calendar', () => {
  test('a whole year is 366 days in 2024, each a valid partition, in order', () => {
    const range = { from: { year: '2024', month: '01', day: '01' }, to: { year: '2024', month: '12', day: '31' } };
    const partitions = expandRange(orders, range);
    expect(partitions).toHaveLength(366);
    expect(countRange(orders, range)).toBe(366);
    expect(partitions[0]).toEqual({ year: '2024', month: '01', day: '01' });
    expect(partitions[59]).toEqual({ year: '2024', month: '02', day: '29' });
    expect(partitions[365]).toEqual({ year: '2024', month: '12', day: '31' });
    for (const p of partitions) expect(assertPartition(orders, p)).toEqual(p);
    expect(new Set(partitions.map((p) => partitionKey(orders, p))).size).toBe(366);
  });

  test('crosses month and year ends as days, not as a product of ranges', () => {
    const partitions = expandRange(orders, {
      from: { year: '2023', month: '12', day: '30' },
      to: { year: '2024', month: '01', day: '02' },
    });
    expect(partitions.map((p) => `${p.year}-${p.month}-${p.day}`)).toEqual([
      '2023-12-30',
      '2023-12-31',
      '2024-01-01',
      '2024-01-02',
    ]);
  });

  test('refuses a from or to that is not a calendar date, naming the month', () => {
    expect(() =>
      expandRange(orders, {
        from: { year: '2023', month: '02', day: '29' },
        to: { year: '2023', month: '03', day: '01' },
      }),
    ).toThrow(/range\.from .*not a calendar date: day 29 of February 2023, which has 28 days/);
    expect(() =>
      expandRange(orders, {
        from: { year: '2024', month: '04', day: '01' },
        to: { year: '2024', month: '04', day: '31' },
      }),
    ).toThrow(/range\.to .*April 2024, which has 30 days/);
  });

  test('refuses a value that breaks its key pattern, naming the side and the key', () => {
    expect(() =>
      expandRange(orders, {
        from: { year: '2024', month: '1', day: '01' },
        to: { year: '2024', month: '02', day: '01' },
      }),
    ).toThrow(InvalidPartitionError);
    expect(() =>
      expandRange(orders, {
        from: { year: '2024', month: '1', day: '01' },
        to: { year: '2024', month: '02', day: '01' },
      }),
    ).toThrow(/range\.from: partition value month="1"/);
    expect(() =>
      expandRange(orders, { from: { year: '2024', month: '01' }, to: { year: '2024', month: '02', day: '01' } }),
    ).toThrow(/range\.from: .*lacks key 'day'/);
    expect(() =>
      expandRange(orders, {
        from: { year: '2024', month: '01', day: '01', region: 'eu' },
        to: { year: '2024', month: '02', day: '01' },
      }),
    ).toThrow(/range\.from: partition key 'region' is not a key/);
  });

  test('refuses from after to', () => {
    expect(() =>
      expandRange(orders, {
        from: { year: '2024', month: '02', day: '01' },
        to: { year: '2024', month: '01', day: '31' },
      }),
    ).toThrow(/range\.from is after range\.to for the calendar keys \(year, month, day\)/);
  });

  test('refuses a range above the limit before enumerating it', () => {
    const range = { from: { year: '2024', month: '01', day: '01' }, to: { year: '2024', month: '12', day: '31' } };
    expect(() => expandRange(orders, range, 100)).toThrow(InvalidInputError);
    expect(() => expandRange(orders, range, 100)).toThrow(/names 366 partitions, above the limit of 100/);
  });

  test('refuses a range without both ends', () => {
    expect(() => expandRange(orders, { from: { year: '2024', month: '01', day: '01' } } as never)).toThrow(
      /range must have both "from" and "to"/,
    );
  });
});

describe('a date key and an hour key are stepped by the hour', () => {
  test('four hours across midnight', () => {
    const partitions = expandRange(clicks, {
      from: { dt: '2024-01-05', hour: '22' },
      to: { dt: '2024-01-06', hour: '01' },
    });
    expect(partitions).toEqual([
      { dt: '2024-01-05', hour: '22' },
      { dt: '2024-01-05', hour: '23' },
      { dt: '2024-01-06', hour: '00' },
      { dt: '2024-01-06', hour: '01' },
    ]);
  });

  test('a leap day exists in 2024 and not in 2023', () => {
    expect(
      expandRange(clicks, { from: { dt: '2024-02-29', hour: '00' }, to: { dt: '2024-02-29', hour: '23' } }),
    ).toHaveLength(24);
    expect(() =>
      expandRange(clicks, { from: { dt: '2023-02-29', hour: '00' }, to: { dt: '2023-03-01', hour: '00' } }),
    ).toThrow(/range\.from \(dt\) is not a calendar date: day 29 of February 2023/);
  });

  test('a date key alone is stepped by the day, in the style of from', () => {
    const daily = configWith([{ name: 'dt', type: 'date', pattern: '^[0-9]{8}$' }]);
    expect(expandRange(daily, { from: { dt: '20240228' }, to: { dt: '20240301' } })).toEqual([
      { dt: '20240228' },
      { dt: '20240229' },
      { dt: '20240301' },
    ]);
  });
});

describe('other keys', () => {
  const sharded = configWith([
    { name: 'region', type: 'string', pattern: '^[a-z]{2}$' },
    { name: 'year', type: 'int', pattern: '^[0-9]{4}$' },
    { name: 'month', type: 'int', pattern: '^(0[1-9]|1[0-2])$' },
    { name: 'shard', type: 'int', pattern: '^[0-9]{3}$' },
  ]);

  test('integers step by one keeping the padding of from; a fixed string key; months by the calendar', () => {
    const partitions = expandRange(sharded, {
      from: { region: 'eu', year: '2024', month: '11', shard: '009' },
      to: { region: 'eu', year: '2025', month: '01', shard: '011' },
    });
    expect(partitions).toHaveLength(9);
    expect(partitions.slice(0, 4)).toEqual([
      { region: 'eu', year: '2024', month: '11', shard: '009' },
      { region: 'eu', year: '2024', month: '11', shard: '010' },
      { region: 'eu', year: '2024', month: '11', shard: '011' },
      { region: 'eu', year: '2024', month: '12', shard: '009' },
    ]);
    expect(partitions[8]).toEqual({ region: 'eu', year: '2025', month: '01', shard: '011' });
  });

  test('a string key cannot be a range: the error names the key', () => {
    expect(() =>
      expandRange(sharded, {
        from: { region: 'eu', year: '2024', month: '01', shard: '001' },
        to: { region: 'us', year: '2024', month: '01', shard: '001' },
      }),
    ).toThrow(/range over key 'region' \(type string\): .*must equal range\.to\.region/);
  });

  test('every produced value is checked against its pattern', () => {
    // shard 999 + 1 = 1000 does not match ^[0-9]{3}$.
    expect(() =>
      expandRange(sharded, {
        from: { region: 'eu', year: '2024', month: '01', shard: '998' },
        to: { region: 'eu', year: '2024', month: '01', shard: '1000' },
      }),
    ).toThrow(/range\.to: partition value shard="1000"/);
  });
});

describe('properties', () => {
  const day = fc.date({
    min: new Date('2000-01-01T00:00:00Z'),
    max: new Date('2099-12-31T00:00:00Z'),
    noInvalidDate: true,
  });
  const asParts = (d: Date) => ({
    year: String(d.getUTCFullYear()),
    month: String(d.getUTCMonth() + 1).padStart(2, '0'),
    day: String(d.getUTCDate()).padStart(2, '0'),
  });

  test('a day range has one partition per calendar day, distinct, ascending, within the ends', () => {
    fc.assert(
      fc.property(day, fc.integer({ min: 0, max: 800 }), (start, length) => {
        const from = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
        const to = new Date(from.getTime() + length * 86_400_000);
        const partitions = expandRange(orders, { from: asParts(from), to: asParts(to) });
        expect(partitions).toHaveLength(length + 1);
        const keys = partitions.map((p) => `${p.year}${p.month}${p.day}`);
        expect([...keys].sort()).toEqual(keys);
        expect(new Set(keys).size).toBe(keys.length);
        expect(partitions[0]).toEqual(asParts(from));
        expect(partitions[partitions.length - 1]).toEqual(asParts(to));
      }),
      { numRuns: 200 },
    );
  });
});
