import { parseRawKey, assertPartition, targetPartitionPrefix, partitionKey } from '../../domain/partitions';
import { InvalidPartitionError } from '../../domain/errors';
import { testConfig } from '../support/fakes';

const config = testConfig();
const orders = config.datasets[0]!;

describe('parsing raw keys', () => {
  test('reads Hive-style partitions', () => {
    const parsed = parseRawKey(config, 'orders/year=2024/month=01/day=05/part-0001.csv');
    expect(parsed).toMatchObject({ ok: true, partition: { year: '2024', month: '01', day: '05' } });
  });

  test('reads path-template partitions', () => {
    const parsed = parseRawKey(config, 'events/clicks/2024-01-05/07/batch 1 ü.json');
    expect(parsed).toMatchObject({ ok: true, partition: { dt: '2024-01-05', hour: '07' } });
  });

  test.each([
    ['orders/year=2024/month=13/day=05/a.csv', /month="13".*does not match/],
    ['orders/year=2024/month=1/day=05/a.csv', /does not match/],
    ['orders/2024/01/05/a.csv', /does not follow the layout/],
    ['orders/year=2024/month=01/day=05/', /folder marker/],
    ['orders/year=2024/month=01/day=05/../x.csv', /'\.\.'/],
    ['orders/year=2024/month=01/day=05/sub/x.csv', /nested below the partition folder/],
    ['orders/year=2024/month=01/day=05/_SUCCESS', /marker file/],
    ["orders/year=2024'/month=01/day=05/a.csv", /does not match/],
    ['payments/x.csv', /outside every dataset prefix/],
  ])('rejects %s with a reason', (key, reason) => {
    const parsed = parseRawKey(config, key);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toMatch(reason);
  });
});

describe('partition values', () => {
  test('are returned in the configured key order', () => {
    expect(Object.keys(assertPartition(orders, { day: '05', year: '2024', month: '01' }))).toEqual([
      'year',
      'month',
      'day',
    ]);
  });

  test('with a missing or extra key are refused', () => {
    expect(() => assertPartition(orders, { year: '2024', month: '01' })).toThrow(InvalidPartitionError);
    expect(() => assertPartition(orders, { year: '2024', month: '01', day: '05', hour: '1' })).toThrow(
      /'hour' is not a key/,
    );
  });

  test('render the canonical key and the target location', () => {
    const p = { year: '2024', month: '01', day: '05' };
    expect(partitionKey(orders, p)).toBe('year=2024/month=01/day=05');
    expect(targetPartitionPrefix(orders, p)).toBe('orders/year=2024/month=01/day=05/');
  });
});
