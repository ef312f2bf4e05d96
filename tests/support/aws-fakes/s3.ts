/**
 * S3 (REST-XML) on its own loopback server: the operation is the HTTP method plus the path and query, not an
 * X-Amz-Target, so it cannot share FakeAwsServer's router. Calls are recorded into FakeAwsServer's `calls` (service
 * `s3`), so `server.callsOf('s3', 'GetObject')` works like for the other fakes.
 *
 * Addressing. With AWS_ENDPOINT_URL_S3 (or `endpoint`) set to `http://127.0.0.1:<port>` the SDK v3 S3 client
 * addresses buckets path-style by itself: its endpoint rule set takes the path-style branch when the custom endpoint's
 * host is an IP address (`parseURL(...).isIp`), because `<bucket>.127.0.0.1` is no host name (rule set in
 * @aws-sdk/client-s3 dist-cjs/endpoint/ruleset.js; `forcePathStyle: true` takes the same branch for any host). So the
 * requests are `GET /<bucket>/<key>`. Virtual-hosted requests (`Host: <bucket>.localhost:<port>`, what a `localhost`
 * endpoint without forcePathStyle would send) are understood too.
 *
 * Wire shapes follow the S3 API reference: errors are `<Error><Code>…</Code><Message>…</Message>…</Error>` with the
 * HTTP status of the code (NoSuchKey/NoSuchBucket 404, SlowDown 503, AccessDenied 403); HEAD answers carry no body, so
 * the SDK names a missing key `NotFound` (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
 * ListObjectsV2 pages with an opaque continuation token, keys in UTF-8 binary order, at most MaxKeys (default 1000).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { xmlEscape, type FakeAwsServer } from './server';

export interface StoredObject {
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: Date;
  metadata: Record<string, string>;
}

/** An S3 error as S3 sends it. */
export class S3Fault extends Error {
  override readonly name = 'S3Fault';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

export type S3FaultSpec = { kind: 'error'; fault: () => S3Fault } | { kind: 'hang' };

export type S3Operation =
  'PutObject' | 'GetObject' | 'HeadObject' | 'DeleteObject' | 'ListObjectsV2' | 'CreateBucket' | 'HeadBucket';

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export const s3Faults = {
  slowDown: (): S3FaultSpec => ({
    kind: 'error',
    fault: () => new S3Fault('SlowDown', 'Please reduce your request rate.', 503),
  }),
  accessDenied: (): S3FaultSpec => ({ kind: 'error', fault: () => new S3Fault('AccessDenied', 'Access Denied', 403) }),
  internalError: (): S3FaultSpec => ({
    kind: 'error',
    fault: () => new S3Fault('InternalError', 'We encountered an internal error. Please try again.', 500),
  }),
  hang: (): S3FaultSpec => ({ kind: 'hang' }),
};

export class FakeS3 {
  /** bucket -> key -> object. Buckets exist once created (`createBucket` or the CreateBucket call). */
  readonly buckets = new Map<string, Map<string, StoredObject>>();
  url = '';
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<ServerResponse>();
  private readonly faults = new Map<S3Operation, S3FaultSpec[]>();
  private host = '';

  /** `recorder`: where calls are recorded (the shared FakeAwsServer, so callsOf('s3', ...) works). */
  constructor(private readonly recorder?: FakeAwsServer) {}

  createBucket(...names: string[]): void {
    for (const name of names) if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  /** Test access: the object's body as text (undefined when missing). */
  text(bucket: string, key: string): string | undefined {
    return this.buckets.get(bucket)?.get(key)?.body.toString('utf8');
  }

  /** Test access: writes an object directly (the bucket is created if needed). */
  put(bucket: string, key: string, body: string | Buffer, contentType = 'application/octet-stream'): void {
    this.createBucket(bucket);
    this.buckets.get(bucket)!.set(key, stored(Buffer.from(body), contentType, {}));
  }

  keys(bucket: string): string[] {
    return [...(this.buckets.get(bucket)?.keys() ?? [])].sort(binaryOrder);
  }

  /** The next `times` calls of the operation get this fault instead of an answer. */
  failNext(operation: S3Operation, fault: S3FaultSpec, times = 1): void {
    const queue = this.faults.get(operation) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.faults.set(operation, queue);
  }

  /** Empties every bucket (the buckets stay) and forgets pending faults. */
  reset(): void {
    for (const objects of this.buckets.values()) objects.clear();
    this.faults.clear();
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${port}`;
    this.host = `:${port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://fake');
    const { bucket, key } = this.address(req, url);
    const operation = operationOf(req.method ?? 'GET', bucket, key, url);
    if (!operation) {
      res.writeHead(405, { 'content-type': 'text/plain' }).end(`fake S3: no operation for ${req.method} ${req.url}`);
      return;
    }
    const query = Object.fromEntries(url.searchParams.entries());
    this.recorder?.calls.push({ service: 's3', operation, body: { Bucket: bucket, Key: key, ...query } });
    const fault = this.faults.get(operation)?.shift();
    if (fault?.kind === 'hang') {
      this.hung.add(res);
      return;
    }
    try {
      if (fault?.kind === 'error') throw fault.fault();
      this.answer(operation, req, res, bucket, key ?? '', url, decodeBody(req, raw));
    } catch (error) {
      if (!(error instanceof S3Fault)) throw error;
      const head = req.method === 'HEAD';
      res.writeHead(error.status, { 'content-type': 'application/xml', 'x-amz-request-id': 'fake-request' });
      res.end(
        head
          ? undefined
          : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(error.code)}</Code>` +
              `<Message>${xmlEscape(error.message)}</Message>` +
              Object.entries(error.extra)
                .map(([name, value]) => `<${name}>${xmlEscape(value)}</${name}>`)
                .join('') +
              `<RequestId>fake-request</RequestId><HostId>fake-host</HostId></Error>`,
      );
    }
  }

  /** Path-style `/<bucket>/<key>`, or virtual-hosted `Host: <bucket>.<endpoint host>` + `/<key>`. */
  private address(req: IncomingMessage, url: URL): { bucket: string; key?: string } {
    const host = req.headers.host ?? '';
    const hostname = host.endsWith(this.host) ? host.slice(0, -this.host.length) : host;
    const virtual = /^(.+)\.(localhost|127\.0\.0\.1)$/.exec(hostname);
    // The SDK percent-encodes each key segment and keeps the slashes (a key may contain `/`).
    const path = url.pathname.slice(1);
    if (virtual) return { bucket: virtual[1]!, ...(path ? { key: decodeURIComponent(path) } : {}) };
    const slash = path.indexOf('/');
    if (slash < 0) return { bucket: decodeURIComponent(path) };
    const key = decodeURIComponent(path.slice(slash + 1));
    return { bucket: decodeURIComponent(path.slice(0, slash)), ...(key ? { key } : {}) };
  }

  private objects(bucket: string): Map<string, StoredObject> {
    const objects = this.buckets.get(bucket);
    if (!objects) {
      throw new S3Fault('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket });
    }
    return objects;
  }

  private object(bucket: string, key: string): StoredObject {
    const object = this.objects(bucket).get(key);
    if (!object) throw new S3Fault('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
    return object;
  }

  private answer(
    operation: S3Operation,
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
    key: string,
    url: URL,
    body: Buffer,
  ): void {
    switch (operation) {
      case 'CreateBucket':
        this.createBucket(bucket);
        res.writeHead(200, { location: `/${bucket}` }).end();
        return;
      case 'HeadBucket':
        this.objects(bucket);
        res.writeHead(200).end();
        return;
      case 'PutObject': {
        const metadata = Object.fromEntries(
          Object.entries(req.headers)
            .filter(([name]) => name.startsWith('x-amz-meta-'))
            .map(([name, value]) => [name.slice('x-amz-meta-'.length), String(value)]),
        );
        const object = stored(body, String(req.headers['content-type'] ?? 'binary/octet-stream'), metadata);
        this.objects(bucket).set(key, object);
        res.writeHead(200, { etag: object.etag }).end();
        return;
      }
      case 'GetObject':
      case 'HeadObject': {
        const object = this.object(bucket, key);
        const range = operation === 'GetObject' ? byteRangeOf(req.headers.range, object.body.length) : undefined;
        if (range === 'unsatisfiable') {
          throw new S3Fault('InvalidRange', 'The requested range is not satisfiable', 416);
        }
        const body = range ? object.body.subarray(range.start, range.end + 1) : object.body;
        res.writeHead(range ? 206 : 200, {
          'content-type': object.contentType,
          'content-length': String(body.length),
          ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${object.body.length}` } : {}),
          etag: object.etag,
          'last-modified': object.lastModified.toUTCString(),
          ...Object.fromEntries(Object.entries(object.metadata).map(([n, v]) => [`x-amz-meta-${n}`, v])),
        });
        res.end(operation === 'GetObject' ? body : undefined);
        return;
      }
      case 'DeleteObject':
        this.objects(bucket).delete(key);
        res.writeHead(204).end();
        return;
      case 'ListObjectsV2': {
        const xml = this.list(bucket, url.searchParams);
        res.writeHead(200, { 'content-type': 'application/xml' }).end(xml);
        return;
      }
    }
  }

  private list(bucket: string, query: URLSearchParams): string {
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const maxKeys = Math.min(Number(query.get('max-keys') ?? 1000), 1000);
    const token = query.get('continuation-token');
    const after = token !== null ? Buffer.from(token, 'base64url').toString('utf8') : (query.get('start-after') ?? '');
    const entries: Array<{ key: string } | { prefix: string }> = [];
    const seenPrefixes = new Set<string>();
    for (const key of [...this.objects(bucket).keys()].sort(binaryOrder)) {
      if (!key.startsWith(prefix) || binaryOrder(key, after) <= 0) continue;
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (cut >= 0) {
        const common = key.slice(0, cut + delimiter.length);
        // A common prefix is one entry; a page that ends inside it resumes after every key that shares it.
        if (seenPrefixes.has(common) || binaryOrder(common, after) <= 0) continue;
        seenPrefixes.add(common);
        entries.push({ prefix: common });
      } else entries.push({ key });
    }
    const page = entries.slice(0, maxKeys);
    const truncated = entries.length > page.length;
    const last = page[page.length - 1];
    const resumeAfter = last ? ('key' in last ? last.key : `${last.prefix}\u{10ffff}`) : '';
    const objects = this.objects(bucket);
    const contents = page
      .filter((e): e is { key: string } => 'key' in e)
      .map((e) => {
        const o = objects.get(e.key)!;
        return (
          `<Contents><Key>${xmlEscape(e.key)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified>` +
          `<ETag>${xmlEscape(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`
        );
      })
      .join('');
    const common = page
      .filter((e): e is { prefix: string } => 'prefix' in e)
      .map((e) => `<CommonPrefixes><Prefix>${xmlEscape(e.prefix)}</Prefix></CommonPrefixes>`)
      .join('');
    return (
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="${XMLNS}">` +
      `<Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>` +
      (delimiter ? `<Delimiter>${xmlEscape(delimiter)}</Delimiter>` : '') +
      `<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
      (token !== null ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : '') +
      (truncated
        ? `<NextContinuationToken>${Buffer.from(resumeAfter, 'utf8').toString('base64url')}</NextContinuationToken>`
        : '') +
      contents +
      common +
      `</ListBucketResult>`
    );
  }
}

function operationOf(method: string, bucket: string, key: string | undefined, url: URL): S3Operation | undefined {
  if (!bucket) return undefined;
  if (key === undefined) {
    if (method === 'PUT') return 'CreateBucket';
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'GET' && url.searchParams.get('list-type') === '2') return 'ListObjectsV2';
    return undefined;
  }
  return ({ PUT: 'PutObject', GET: 'GetObject', HEAD: 'HeadObject', DELETE: 'DeleteObject' } as const)[
    method as 'PUT' | 'GET' | 'HEAD' | 'DELETE'
  ];
}

/**
 * The SDK may send a streaming body `aws-chunked` with a trailing checksum (`x-amz-content-sha256:
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER`): `<hex size>[;chunk-signature=…]\r\n<data>\r\n … 0\r\n<trailers>\r\n\r\n`.
 */
function decodeBody(req: IncomingMessage, raw: Buffer): Buffer {
  const encoding = String(req.headers['content-encoding'] ?? '');
  const sha = String(req.headers['x-amz-content-sha256'] ?? '');
  if (!encoding.includes('aws-chunked') && !sha.startsWith('STREAMING-')) return raw;
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (!size) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function stored(body: Buffer, contentType: string, metadata: Record<string, string>): StoredObject {
  return {
    body,
    contentType,
    etag: `"${createHash('md5').update(body).digest('hex')}"`,
    lastModified: new Date(Math.floor(Date.now() / 1000) * 1000),
    metadata,
  };
}

/** S3 lists keys in UTF-8 binary order. */
function binaryOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * GetObject's Range header, one range as S3 serves it (RFC 9110 byte ranges; S3 answers one range only):
 * `bytes=a-b` (b clamped to the last byte), `bytes=a-`, and the suffix form `bytes=-n` (the last n bytes).
 * A first byte at or past the end is 416 InvalidRange. https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 */
export function byteRangeOf(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  if (start >= size) return 'unsatisfiable';
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  return end < start ? undefined : { start, end };
}
