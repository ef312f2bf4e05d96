import { parseRawKey, assertPartition, targetPartitionPrefix, partitionKey } from '../../domain/config';
import { InvalidPartitionError, type Log, type ObjectStorePort } from '../../domain/common';
import fc from 'fast-check';
import { acceptObjectCreated } from '../../domain/intake/arrival';
import { resolveEventKey } from '../../domain/intake/object-keys';
import { fakeWorld, testConfig } from '../support/fakes';

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

describe('event keys, literal or URL-encoded (domain/intake/object-keys.ts)', () => {
  const DIR = 'orders/year=2024/month=01/day=05/';
  /** A raw bucket holding exactly these keys; counts HeadObject calls. */
  function bucketWith(...keys: string[]) {
    const heads: string[] = [];
    const objects: ObjectStorePort = {
      headObject: async (_bucket, key) => {
        heads.push(key);
        return keys.includes(key) ? 'exists' : 'missing';
      },
    };
    return { objects, heads };
  }
  /** S3's classic form encoding: like encodeURIComponent, '/' kept, spaces as '+'. */
  const formEncode = (key: string) =>
    key
      .split('/')
      .map((p) => encodeURIComponent(p).replace(/%20/g, '+'))
      .join('/');
  const log: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  function eventFor(deliveredKey: string, size = 10) {
    return {
      version: '0',
      id: 'e1',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '000000000000',
      time: '2024-01-05T10:00:00Z',
      region: 'eu-west-1',
      resources: ['arn:aws:s3:::raw-bucket'],
      detail: {
        version: '0',
        bucket: { name: 'raw-bucket' },
        object: { key: deliveredKey, size, etag: 'e', sequencer: '00AA' },
        'request-id': 'r',
        requester: '000000000000',
        reason: 'PutObject',
      },
    };
  }
  async function intake(deliveredKey: string, objects?: ObjectStorePort) {
    const world = fakeWorld();
    const recorded: string[] = [];
    const record = world.arrivals.recordArrival.bind(world.arrivals);
    world.arrivals.recordArrival = async (a) => {
      recorded.push(a.objectKey);
      return record(a);
    };
    const outcome = await acceptObjectCreated(eventFor(deliveredKey), { ...world.deps, objects }, log);
    return { outcome, recorded };
  }

  test.each([
    ['a literal %', `${DIR}report 100%.csv`],
    ['a literal +, %20 and space', `${DIR}file+v2%20final.csv`],
    ['a literal %3D in a file name', `${DIR}a%3Db.csv`],
    ['a plain name', `${DIR}part-0001.csv`],
    ['non-ASCII', `${DIR}données ü.csv`],
  ])('%s: the same object whether the event carries the key literally or encoded', async (_name, real) => {
    for (const delivered of [real, formEncode(real)]) {
      const { objects } = bucketWith(real);
      const { outcome, recorded } = await intake(delivered, objects);
      expect(outcome).toMatchObject({ status: 'accepted', key: real, partition: 'year=2024/month=01/day=05' });
      expect(recorded).toEqual([real]);
    }
  });

  test('report 100%.csv delivered literally is accepted without a HeadObject (it is not valid URL encoding)', async () => {
    const { objects, heads } = bucketWith(`${DIR}report 100%.csv`);
    const resolved = await resolveEventKey(testConfig(), 'raw-bucket', `${DIR}report 100%.csv`, objects);
    expect(resolved).toMatchObject({ ok: true, key: `${DIR}report 100%.csv`, form: 'literal', headed: false });
    expect(heads).toEqual([]);
  });

  test('a folder literally named year%3D2024 is not read as partition year=2024', async () => {
    const real = 'orders/year%3D2024/month=01/day=05/a.csv';
    const { objects, heads } = bucketWith(real);
    const { outcome, recorded } = await intake(real, objects);
    expect(outcome).toMatchObject({ status: 'rejected', key: real });
    expect(outcome.status === 'rejected' ? outcome.reason : '').toMatch(/does not follow the layout/);
    expect(heads).toEqual(['orders/year=2024/month=01/day=05/a.csv']);
    expect(recorded).toEqual([]);
  });

  test('an encoded event for year=2024 is read as that partition, with one HeadObject', async () => {
    const real = `${DIR}a.csv`;
    const { objects, heads } = bucketWith(real);
    const { outcome } = await intake(formEncode(real), objects);
    expect(outcome).toMatchObject({ status: 'accepted', key: real });
    expect(heads).toHaveLength(1);
  });

  test('file+v2%20final.csv is recorded exactly as the object exists, resolved by one HeadObject', async () => {
    const real = `${DIR}file+v2%20final.csv`;
    const { objects, heads } = bucketWith(real);
    expect(await resolveEventKey(testConfig(), 'raw-bucket', real, objects)).toMatchObject({ ok: true, key: real });
    expect(heads).toEqual([real]);
    const other = bucketWith(`${DIR}file v2 final.csv`);
    expect(await resolveEventKey(testConfig(), 'raw-bucket', real, other.objects)).toMatchObject({
      ok: true,
      key: `${DIR}file v2 final.csv`,
      form: 'decoded',
    });
    expect(other.heads).toHaveLength(1);
  });

  test('a key that needs no decoding costs no HeadObject', async () => {
    const { objects, heads } = bucketWith(`${DIR}part-1.csv`);
    expect(await resolveEventKey(testConfig(), 'raw-bucket', `${DIR}part-1.csv`, objects)).toMatchObject({ ok: true });
    expect(heads).toEqual([]);
  });

  test('keys over 1,024 bytes are rejected with a reason before any write; 1,024 bytes pass', async () => {
    const named = (bytes: number) => {
      const room = bytes - DIR.length - '.csv'.length;
      return `${DIR}${'ü'.repeat(Math.floor(room / 2))}${'a'.repeat(room % 2)}.csv`;
    };
    const exact = named(1024);
    expect(Buffer.byteLength(exact)).toBe(1024);
    expect((await intake(exact, bucketWith(exact).objects)).outcome).toMatchObject({ status: 'accepted' });
    for (const bytes of [1026, 2050, 4000]) {
      const long = named(bytes);
      for (const delivered of [long, formEncode(long)]) {
        const { outcome, recorded } = await intake(delivered, bucketWith(long).objects);
        expect(outcome.status).toBe('rejected');
        expect(outcome.status === 'rejected' ? outcome.reason : '').toMatch(/S3 keys are at most 1024 bytes/);
        expect(recorded).toEqual([]);
      }
    }
  });

  test('without an object store the literal reading is preferred when it is a data key', async () => {
    expect(await resolveEventKey(testConfig(), 'raw-bucket', `${DIR}a+b.csv`)).toMatchObject({
      ok: true,
      key: `${DIR}a+b.csv`,
    });
  });

  test('property: any data key resolves to itself, delivered literally or encoded, with at most one HeadObject', async () => {
    const name = fc.string({
      unit: fc.constantFrom('a', 'Z', '0', ' ', '+', '%', '=', ':', '2', 'D', '(', ')', 'ü', '&', '#', '~'),
      minLength: 1,
      maxLength: 12,
    });
    await fc.assert(
      fc.asyncProperty(name, fc.boolean(), async (file, encoded) => {
        fc.pre(!file.startsWith('_') && !file.startsWith('.'));
        const real = `${DIR}${file}.csv`;
        const { objects, heads } = bucketWith(real);
        const resolved = await resolveEventKey(testConfig(), 'raw-bucket', encoded ? formEncode(real) : real, objects);
        expect(resolved).toMatchObject({ ok: true, key: real });
        expect(heads.length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});
