/** Run artifacts in the stage's artifacts bucket (SSE-KMS by the bucket's default encryption). */
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore, ObjectLocation } from '../../domain/common';
import { call, mapAwsError } from './errors';

export class S3ArtifactStore implements ArtifactStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async put(location: ObjectLocation, body: string, contentType = 'application/json'): Promise<void> {
    await call('S3 PutObject', () =>
      this.s3.send(
        new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: body, ContentType: contentType }),
      ),
    );
  }

  async get(location: ObjectLocation): Promise<string | null> {
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
      return (await response.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      // GetObject answers NoSuchKey for a missing key when the caller may list the bucket, else AccessDenied.
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return null;
      throw mapAwsError(error, 'S3 GetObject');
    }
  }
}
