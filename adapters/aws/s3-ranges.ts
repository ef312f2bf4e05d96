/**
 * Ranged reads of one raw object, for schema fingerprints (domain/drift/schema-drift.ts): GetObject with a `Range`
 * header, `bytes=a-b` or the suffix form `bytes=-n` (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
 * S3 clamps a range past the end to the object's last byte, so a head read of a small file returns the file.
 * An empty object has no satisfiable range (416 InvalidRange): it reads as no bytes.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ReadRange } from '../../domain/drift';

export function s3RangeReader(s3: S3Client, bucket: string, key: string): ReadRange {
  return async (range) => {
    const header = 'suffix' in range ? `bytes=-${range.suffix}` : `bytes=${range.start}-${range.end}`;
    try {
      const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: header }));
      return Buffer.from(await answer.Body!.transformToByteArray());
    } catch (error) {
      if ((error as { name?: string }).name === 'InvalidRange') return Buffer.alloc(0);
      throw error;
    }
  };
}
