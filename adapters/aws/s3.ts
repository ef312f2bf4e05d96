/**
 * S3 HeadObject for the intake's key resolution (domain/intake/object-keys.ts).
 *
 * A missing key answers 404 only when the caller may also list the bucket; with s3:GetObject alone S3 answers 403
 * for a missing key ("If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code 403
 * Forbidden error", https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html). So the intake's role
 * has s3:GetObject on the raw objects and s3:ListBucket on the raw bucket, and a 403 is an error (retried, then
 * dead-lettered), never read as "missing".
 */
import { HeadObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectStorePort } from '../../domain/common';

export class S3Objects implements ObjectStorePort {
  constructor(private readonly s3: S3Client) {}

  async headObject(bucket: string, key: string): Promise<'exists' | 'missing'> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return 'exists';
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return 'missing';
      throw error;
    }
  }

  /**
   * Sums Size over ListObjectsV2 pages (up to 1,000 keys a page:
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html). Needs s3:ListBucket with this prefix.
   */
  async prefixBytes(bucket: string, prefix: string): Promise<number> {
    let bytes = 0;
    for await (const page of paginateListObjectsV2({ client: this.s3 }, { Bucket: bucket, Prefix: prefix }))
      for (const object of page.Contents ?? []) bytes += object.Size ?? 0;
    return bytes;
  }
}
