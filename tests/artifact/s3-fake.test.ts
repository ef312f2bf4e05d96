/**
 * The S3 loopback fake speaks S3's REST-XML: the real SDK v3 S3 client, configured only through AWS_ENDPOINT_URL_S3
 * as the packaged bundles are, round-trips objects through it and parses its errors into the SDK's own names.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { startAwsFakes, type AwsFakes } from '../support/aws-fakes';
import { s3Faults } from '../support/aws-fakes/s3';

let fakes: AwsFakes;
let s3: S3Client;
const saved = { ...process.env };

beforeAll(async () => {
  fakes = await startAwsFakes('eu-west-1');
  Object.assign(process.env, fakes.env);
  s3 = new S3Client({ maxAttempts: 1 });
});

afterAll(async () => {
  s3.destroy();
  for (const key of Object.keys(fakes.env)) delete process.env[key];
  Object.assign(process.env, saved);
  await fakes.stop();
});

beforeEach(() => {
  fakes.reset();
  fakes.s3.createBucket('artifacts');
});

test('PutObject then GetObject and HeadObject: body, content type, ETag; requests are path-style', async () => {
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: 'artifacts',
      Key: 'runs/a b/ü=1/summary.json',
      Body: '{"rowsIn":3}',
      ContentType: 'application/json',
    }),
  );
  expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'runs/a b/ü=1/summary.json' }));
  expect(await got.Body!.transformToString()).toBe('{"rowsIn":3}');
  expect(got.ContentType).toBe('application/json');
  expect(got.ETag).toBe(put.ETag);
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'artifacts', Key: 'runs/a b/ü=1/summary.json' }));
  expect(head.ContentLength).toBe(12);
  expect(fakes.s3.text('artifacts', 'runs/a b/ü=1/summary.json')).toBe('{"rowsIn":3}');
  expect(fakes.server.callsOf('s3').map((c) => c.operation)).toEqual(['PutObject', 'GetObject', 'HeadObject']);
  expect(fakes.server.callsOf('s3', 'GetObject')[0]!.body).toMatchObject({ Bucket: 'artifacts' });
});

test('a streamed body (aws-chunked with a trailing checksum) is stored as sent', async () => {
  const { Readable } = await import('node:stream');
  const body = Readable.from([Buffer.from('line 1\n'), Buffer.from('line 2\n')]);
  await s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'streamed.txt', Body: body, ContentLength: 14 }));
  expect(fakes.s3.text('artifacts', 'streamed.txt')).toBe('line 1\nline 2\n');
});

test('errors: NoSuchKey and NoSuchBucket as the SDK names them; HeadObject of a missing key is a 404 NotFound', async () => {
  const missingKey = s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'nope.json' }));
  await expect(missingKey).rejects.toBeInstanceOf(NoSuchKey);
  await expect(s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'nope.json' }))).rejects.toMatchObject({
    name: 'NoSuchKey',
    $metadata: { httpStatusCode: 404 },
  });
  await expect(s3.send(new GetObjectCommand({ Bucket: 'other', Key: 'k' }))).rejects.toBeInstanceOf(NoSuchBucket);
  await expect(s3.send(new PutObjectCommand({ Bucket: 'other', Key: 'k', Body: 'x' }))).rejects.toMatchObject({
    name: 'NoSuchBucket',
  });
  await expect(s3.send(new HeadObjectCommand({ Bucket: 'artifacts', Key: 'nope.json' }))).rejects.toMatchObject({
    name: 'NotFound',
    $metadata: { httpStatusCode: 404 },
  });
  fakes.s3.failNext('GetObject', s3Faults.slowDown());
  fakes.s3.put('artifacts', 'k', 'v');
  const slow = await s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'k' })).catch((e: unknown) => e);
  expect(slow).toBeInstanceOf(S3ServiceException);
  expect(slow).toMatchObject({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
});

test('ListObjectsV2: prefix, delimiter, and continuation over pages in binary key order; DeleteObject', async () => {
  const keys = Array.from({ length: 7 }, (_, i) => `runs/r1/item-${i}.json`).concat(['runs/r2/x.json', 'other.json']);
  for (const key of keys.reverse()) await s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: key, Body: key }));
  const pages = paginateListObjectsV2({ client: s3, pageSize: 3 }, { Bucket: 'artifacts', Prefix: 'runs/r1/' });
  const listed: string[] = [];
  let pageCount = 0;
  for await (const page of pages) {
    pageCount++;
    expect(page.KeyCount).toBe(page.Contents?.length ?? 0);
    listed.push(...(page.Contents ?? []).map((c) => c.Key!));
  }
  expect(pageCount).toBe(3);
  expect(listed).toEqual(Array.from({ length: 7 }, (_, i) => `runs/r1/item-${i}.json`));
  const folders = await s3.send(new ListObjectsV2Command({ Bucket: 'artifacts', Prefix: 'runs/', Delimiter: '/' }));
  expect(folders.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['runs/r1/', 'runs/r2/']);
  expect(folders.Contents ?? []).toEqual([]);
  await s3.send(new DeleteObjectCommand({ Bucket: 'artifacts', Key: 'other.json' }));
  const rest = await s3.send(new ListObjectsV2Command({ Bucket: 'artifacts' }));
  expect(rest.Contents?.map((c) => c.Key)).not.toContain('other.json');
  expect(rest.IsTruncated).toBe(false);
  await expect(s3.send(new ListObjectsV2Command({ Bucket: 'missing' }))).rejects.toMatchObject({
    name: 'NoSuchBucket',
  });
});

test('forcePathStyle with a host-name endpoint (localhost) reaches the bucket too', async () => {
  fakes.s3.put('artifacts', 'k.txt', 'v');
  const endpoint = fakes.s3.url.replace('127.0.0.1', 'localhost');
  const pathStyle = new S3Client({ endpoint, forcePathStyle: true, maxAttempts: 1 });
  const got = await pathStyle.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'k.txt' }));
  expect(await got.Body!.transformToString()).toBe('v');
  pathStyle.destroy();
});
