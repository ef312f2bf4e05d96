/**
 * The local lake: S3 is a directory tree (<root>/<bucket>/<key>), the Glue catalog is a JSON file, SNS is a
 * JSON-lines file. Landing a file yields the same EventBridge "Object Created" event AWS sends.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { S3ObjectCreatedEvent } from '../../schemas/types.generated';

export interface CatalogColumn {
  name: string;
  type: string;
}

export interface CatalogTable {
  database: string;
  name: string;
  location: string;
  columns: CatalogColumn[];
  partitionKeys: string[];
  /** The partition columns with the type the config declares (int, date, string), as the Glue table has them. */
  partitionColumns?: CatalogColumn[];
  /** partition key (year=2024/month=01) -> location */
  partitions: Record<string, string>;
  schemaChanges: Array<{ at: string; added: string[]; removed: string[]; retyped: string[] }>;
  /** partition key -> the sampled file the crawler could not read there, and why (issue 25). */
  unreadable?: Record<string, UnreadableFile>;
}

export interface UnreadableFile {
  /** The raw key, as written. */
  file: string;
  reason: string;
}

export interface Catalog {
  tables: Record<string, CatalogTable>;
}

/** S3's own encoding for event keys: like encodeURIComponent but '/' kept and spaces as '+'. */
export function encodeS3Key(key: string): string {
  return key
    .split('/')
    .map((part) => encodeURIComponent(part).replace(/%20/g, '+'))
    .join('/');
}

/** An S3 event key (URL-encoded, spaces as '+') as the user wrote it; a key that is not valid encoding is kept. */
export function decodeS3Key(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

/**
 * The local object's ETag: changes whenever the file is rewritten, like S3's, without reading the file. S3's own
 * ETag is an MD5 of the data only for single-part, unencrypted or SSE-S3 uploads (multipart and SSE-KMS objects
 * have other ETags: S3 API reference, Object.ETag), so nothing in sluice may rely on it being a digest, and
 * nothing does: duplicates are recognised by key and sequencer. Hashing every landed file cost 0.3-0.45 s per
 * million rows (issue 14's profile). Shaped like a multipart ETag ("<hex>-<n>") so it is never taken for an MD5.
 */
export function localEtag(size: bigint, mtimeNs: bigint, ino: bigint): string {
  return `${createHash('md5').update(`${size}:${mtimeNs}:${ino}`).digest('hex')}-1`;
}

export class LocalLake {
  constructor(
    readonly root: string,
    readonly rawBucket: string,
    readonly curatedBucket: string,
  ) {
    mkdirSync(this.bucketDir(rawBucket), { recursive: true });
    mkdirSync(this.bucketDir(curatedBucket), { recursive: true });
  }

  bucketDir(bucket: string): string {
    return join(this.root, bucket);
  }

  /** s3://bucket/key -> local path. */
  pathOf(s3Uri: string): string {
    const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(s3Uri);
    if (!match) throw new Error(`not an s3:// URI: ${s3Uri}`);
    return join(this.bucketDir(match[1] ?? ''), match[2] ?? '');
  }

  uriOf(path: string): string {
    const rel = relative(this.root, path).split(sep);
    return `s3://${rel[0]}/${rel.slice(1).join('/')}`;
  }

  get catalogFile(): string {
    return join(this.root, 'catalog.json');
  }

  get notificationsFile(): string {
    return join(this.root, 'notifications.jsonl');
  }

  readCatalog(): Catalog {
    return existsSync(this.catalogFile)
      ? (JSON.parse(readFileSync(this.catalogFile, 'utf8')) as Catalog)
      : { tables: {} };
  }

  /** Write-then-rename so a crash never leaves a half-written catalog. */
  updateCatalog(change: (catalog: Catalog) => void): Catalog {
    const catalog = this.readCatalog();
    change(catalog);
    const tmp = `${this.catalogFile}.${randomUUID()}.tmp`;
    writeFileSync(tmp, JSON.stringify(catalog, null, 2));
    renameSync(tmp, this.catalogFile);
    return catalog;
  }

  /** Writes an object into the raw bucket and returns the event S3 would send through EventBridge. */
  land(key: string, body: string | Buffer): S3ObjectCreatedEvent {
    const path = join(this.bucketDir(this.rawBucket), key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
    return this.eventFor(key);
  }

  eventFor(key: string, bucket = this.rawBucket): S3ObjectCreatedEvent {
    const path = join(this.bucketDir(bucket), key);
    const { size, mtimeNs, ino } = statSync(path, { bigint: true });
    // S3's sequencer grows with each write of a key; the file's modification time does the same here.
    const sequencer = (mtimeNs / 1000n).toString(16).toUpperCase().padStart(18, '0');
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'local',
      resources: [`arn:aws:s3:::${bucket}`],
      detail: {
        version: '0',
        bucket: { name: bucket },
        object: {
          key: encodeS3Key(key),
          size: Number(size),
          etag: localEtag(size, mtimeNs, ino),
          sequencer,
        },
        'request-id': randomUUID(),
        requester: '000000000000',
        reason: 'PutObject',
      },
    };
  }
}
