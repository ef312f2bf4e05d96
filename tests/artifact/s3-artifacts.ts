/**
 * The artifacts bucket of the packaged world (issue 12): the S3 loopback fake, seen through the ArtifactStore port,
 * so the runner's local Distributed Map reads its items (ItemReader) from and writes its results (ResultWriter) to
 * the same fake bucket the packaged bundles reach through AWS_ENDPOINT_URL_S3. Step Functions itself does this part
 * on AWS; the bundles then read and write the same objects.
 */
import type { ArtifactStore, ObjectLocation } from '../../domain/common';
import type { AwsFakes } from '../support/aws-fakes';

export function fakeS3Artifacts(fakes: AwsFakes, bucket: string): ArtifactStore {
  fakes.s3.createBucket(bucket);
  return {
    bucket,
    async put(location: ObjectLocation, body: string, contentType = 'application/json') {
      fakes.s3.put(location.bucket, location.key, body, contentType);
    },
    async get(location: ObjectLocation) {
      return fakes.s3.text(location.bucket, location.key) ?? null;
    },
  };
}
