import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3ArtifactStore } from '../../adapters/aws/artifact-store';
import { LocalArtifactStore } from '../../adapters/local/artifact-store';
import { MemoryArtifactStore } from '../../adapters/memory/artifact-store';
import {
  executionPrefix,
  parseS3Uri,
  runArtifacts,
  AwsThrottledError,
  InvalidInputError,
  InvalidPartitionError,
  validate,
} from '../../domain/common';
import {
  partitionsOf,
  prepareManualItems,
  readManifest,
  readPartitionList,
  writePartitionList,
  writeRerunManifest,
} from '../../domain/inputs/run-inputs';
import { testConfig } from '../support/fakes';

const orders = testConfig().datasets[0]!;
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-dev:orders-manual-1';

describe('artifact layout', () => {
  test('one folder per execution, stable across a redrive (same ARN)', () => {
    expect(executionPrefix(ARN)).toBe('runs/sluice-dev/orders-manual-1/');
    expect(runArtifacts('art', ARN).partitionList).toEqual({
      bucket: 'art',
      key: 'runs/sluice-dev/orders-manual-1/partitions.json',
    });
    expect(runArtifacts('art', ARN).mapResultsPrefix).toBe('runs/sluice-dev/orders-manual-1/map-results');
    expect(executionPrefix('not an arn')).toMatch(/^runs\/other\/[0-9a-f]{32}\/$/);
  });

  test('S3 URIs are parsed or refused with the field named', () => {
    expect(parseS3Uri('s3://my-bucket/manifests/a.json')).toEqual({ bucket: 'my-bucket', key: 'manifests/a.json' });
    expect(() => parseS3Uri('https://x/y', 'manifest')).toThrow(
      /manifest "https:\/\/x\/y" is not of the form s3:\/\/<bucket>\/<key>/,
    );
  });
});

describe('manifest objects', () => {
  const store = new MemoryArtifactStore('art');
  const put = (key: string, body: unknown) =>
    store.put({ bucket: 'art', key }, typeof body === 'string' ? body : JSON.stringify(body));

  test('a JSON array of partitions, validated and without repeats', async () => {
    await put('manifests/ok.json', [
      { year: '2024', month: '01', day: '05' },
      { day: '06', month: '01', year: '2024' },
      { year: '2024', month: '01', day: '05' },
    ]);
    const partitions = await readManifest(store, orders, 's3://art/manifests/ok.json');
    expect(partitions).toEqual([
      { year: '2024', month: '01', day: '05' },
      { year: '2024', month: '01', day: '06' },
    ]);
  });

  test.each([
    [
      's3://elsewhere/m.json',
      null,
      /is in bucket 'elsewhere'; manifests are read from the artifacts bucket 'art' only/,
    ],
    // The run's role reads manifests/ and runs/ of the artifacts bucket only (deploy.test's S3 scope rule).
    [
      's3://art/backfill.json',
      null,
      /is outside manifests\/ and runs\/ of the artifacts bucket; upload it under manifests\//,
    ],
    ['s3://art/manifests/missing.json', null, /manifest s3:\/\/art\/manifests\/missing\.json does not exist/],
    ['s3://art/manifests/bad.json', '{not json', /is not JSON/],
    ['s3://art/manifests/object.json', { partitions: [] }, /must be a JSON array of partitions/],
    ['s3://art/manifests/empty.json', [], /lists no partitions/],
    [
      's3://art/manifests/month.json',
      [
        { year: '2024', month: '01', day: '01' },
        { year: '2024', month: '13', day: '01' },
      ],
      /manifest s3:\/\/art\/manifests\/month\.json \/1: partition value month="13"/,
    ],
    [
      's3://art/manifests/number.json',
      [{ year: 2024, month: '01', day: '01' }],
      /\/0: value of 'year' must be a string/,
    ],
    ['s3://art/manifests/string.json', ['year=2024'], /\/0: a partition is an object/],
  ])('%s is refused with a reason', async (uri, body, reason) => {
    if (body !== null) await put(parseS3Uri(uri).key, body);
    await expect(readManifest(store, orders, uri)).rejects.toThrow(reason);
  });

  test('a manifest above the limit is refused before validating its partitions', async () => {
    await put('manifests/big.json', [{}, {}, {}]);
    await expect(readManifest(store, orders, 's3://art/manifests/big.json', 2)).rejects.toThrow(
      /lists 3 partitions, above the limit of 2/,
    );
  });

  test('bad values are InvalidPartitionError, bad documents InvalidInputError (both fatal)', async () => {
    await expect(readManifest(store, orders, 's3://art/manifests/month.json')).rejects.toBeInstanceOf(
      InvalidPartitionError,
    );
    await expect(readManifest(store, orders, 's3://art/manifests/missing.json')).rejects.toBeInstanceOf(
      InvalidInputError,
    );
  });
});

describe('by-reference inputs end as one partition list for ItemReader', () => {
  test('a range and a manifest naming the same partitions write the same list', async () => {
    const store = new MemoryArtifactStore('art');
    const byRange = await partitionsOf(
      {
        dataset: 'orders',
        range: { from: { year: '2024', month: '01', day: '30' }, to: { year: '2024', month: '02', day: '02' } },
      },
      orders,
      store,
    );
    await store.put({ bucket: 'art', key: 'manifests/m.json' }, JSON.stringify(byRange));
    const byManifest = await partitionsOf({ dataset: 'orders', manifest: 's3://art/manifests/m.json' }, orders, store);
    expect(byManifest).toEqual(byRange);
    const ref = await writePartitionList(store, ARN, byRange);
    expect(ref).toEqual({ bucket: 'art', key: 'runs/sluice-dev/orders-manual-1/partitions.json', count: 4 });
    expect(validate('PartitionListRef', ref, 'ref')).toEqual(ref);
    expect(validate('PartitionManifest', await readPartitionList(store, ref), 'list')).toEqual(byRange);
  });

  test('the re-run object is a manifest that a manual run accepts, and its input is schema-valid', async () => {
    const store = new MemoryArtifactStore('art');
    const failed = [{ year: '2024', month: '03', day: '01' }];
    const { rerunInput, failed: ref } = await writeRerunManifest(store, 'orders', ARN, failed, true);
    expect(rerunInput).toEqual({
      dataset: 'orders',
      manifest: 's3://art/runs/sluice-dev/orders-manual-1/failed-partitions.json',
      skipCrawler: true,
    });
    expect(ref.count).toBe(1);
    expect(validate('ManifestRunInput', structuredClone(rerunInput), 'rerun input')).toEqual(rerunInput);
    expect(await partitionsOf(rerunInput, orders, store)).toEqual(failed);
  });

  test('a list that does not hold what its reference says is refused', async () => {
    const store = new MemoryArtifactStore('art');
    const ref = await writePartitionList(store, ARN, [{ year: '2024', month: '01', day: '01' }]);
    await expect(readPartitionList(store, { ...ref, count: 2 })).rejects.toThrow(/holds 1 partitions, expected 2/);
  });
});

describe('the input schemas (prepared for execution-input.schema.json)', () => {
  test.each([
    [{ dataset: 'orders', range: { from: { year: '2024' }, to: { year: '2025' } } }, 'RangeRunInput'],
    [{ dataset: 'orders', manifest: 's3://art/manifests/m.json', skipCrawler: true }, 'ManifestRunInput'],
  ] as const)('accepts %j', (input, name) => {
    expect(() => validate(name, structuredClone(input), 'input')).not.toThrow();
  });

  test.each([
    [
      { dataset: 'orders', range: { from: { year: '2024' } } },
      'RangeRunInput',
      /\/range must have required property 'to'/,
    ],
    [{ dataset: 'orders', manifest: 'art/m.json' }, 'ManifestRunInput', /\/manifest must match pattern/],
    [
      { dataset: 'orders', manifest: 's3://art/m.json', extra: 1 },
      'ManifestRunInput',
      /must NOT have additional properties 'extra'/,
    ],
  ] as const)('refuses %j naming the field', (input, name, reason) => {
    expect(() => validate(name, structuredClone(input), 'execution input')).toThrow(reason);
  });
});

describe('artifact store adapters', () => {
  test('local files: same layout as S3 under the lake, missing is null, keys cannot leave their bucket', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'sluice-artifacts-'));
    try {
      const store = new LocalArtifactStore(lake, 'art');
      await store.put({ bucket: 'art', key: 'runs/a/b/partitions.json' }, '[1]');
      expect(readFileSync(join(lake, 'art', 'runs', 'a', 'b', 'partitions.json'), 'utf8')).toBe('[1]');
      expect(await store.get({ bucket: 'art', key: 'runs/a/b/partitions.json' })).toBe('[1]');
      expect(await store.get({ bucket: 'art', key: 'runs/none.json' })).toBeNull();
      await expect(store.put({ bucket: 'art', key: '../raw/x.json' }, 'x')).rejects.toThrow(/leaves its bucket/);
    } finally {
      rmSync(lake, { recursive: true, force: true });
    }
  });

  test('S3: PutObject and GetObject; NoSuchKey is null; throttling is AwsThrottledError', async () => {
    const s3 = mockClient(S3Client);
    try {
      const store = new S3ArtifactStore(new S3Client({ region: 'eu-west-1' }), 'art');
      s3.on(PutObjectCommand).resolves({});
      await store.put({ bucket: 'art', key: 'k.json' }, '[]');
      expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
        Bucket: 'art',
        Key: 'k.json',
        Body: '[]',
        ContentType: 'application/json',
      });
      s3.on(GetObjectCommand, { Key: 'k.json' }).resolves({
        Body: { transformToString: async () => '[{"year":"2024"}]' } as never,
      });
      expect(await store.get({ bucket: 'art', key: 'k.json' })).toBe('[{"year":"2024"}]');
      s3.on(GetObjectCommand, { Key: 'none.json' }).rejects(new NoSuchKey({ message: 'no such key', $metadata: {} }));
      expect(await store.get({ bucket: 'art', key: 'none.json' })).toBeNull();
      s3.on(GetObjectCommand, { Key: 'slow.json' }).rejects(
        Object.assign(new Error('slow down'), { name: 'ServiceUnavailable' }),
      );
      await expect(store.get({ bucket: 'art', key: 'slow.json' })).rejects.toBeInstanceOf(AwsThrottledError);
    } finally {
      s3.restore();
    }
  });
});

describe('the prepare step for manual runs', () => {
  test('explicit partitions, a range or a manifest: the state gets a reference and a count', async () => {
    const store = new MemoryArtifactStore('art');
    const explicit = await prepareManualItems(
      {
        dataset: 'orders',
        partitions: [
          { year: '2024', month: '01', day: '05' },
          { year: '2024', month: '01', day: '05' },
        ],
      },
      orders,
      store,
      ARN,
    );
    expect(explicit.count).toBe(1);
    await expect(
      prepareManualItems(
        { dataset: 'orders', partitions: [{ year: '2024', month: '1', day: '05' }] },
        orders,
        store,
        ARN,
      ),
    ).rejects.toThrow(/execution input \/partitions\/0: partition value month="1"/);
    const ranged = await prepareManualItems(
      {
        dataset: 'orders',
        range: { from: { year: '2024', month: '01', day: '01' }, to: { year: '2024', month: '12', day: '31' } },
      },
      orders,
      store,
      ARN,
    );
    expect(ranged).toEqual({ bucket: 'art', key: 'runs/sluice-dev/orders-manual-1/partitions.json', count: 366 });
  });
});
