/**
 * Run artifacts: objects a run writes and reads by reference instead of carrying them in the state payload
 * (the partition list the Distributed Map reads with ItemReader, the Map's ResultWriter output, the re-run
 * manifest of the failed partitions). On AWS they live in the stage's artifacts bucket; locally, in the same
 * layout under the lake. Everything of one execution is under `runs/<state machine>/<execution name>/`.
 */
import { createHash } from 'node:crypto';
import { InvalidInputError } from './errors';

export interface ObjectLocation {
  bucket: string;
  key: string;
}

export interface ArtifactStore {
  /** The bucket this stage writes run artifacts to (AWS: the artifacts bucket). */
  readonly bucket: string;
  /** Writes (or overwrites) one object. */
  put(location: ObjectLocation, body: string, contentType?: string): Promise<void>;
  /** The object's text, or null when there is no such object. */
  get(location: ObjectLocation): Promise<string | null>;
}

export const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/;

export function parseS3Uri(uri: string, what = 'S3 URI'): ObjectLocation {
  const match = S3_URI.exec(uri);
  if (!match) throw new InvalidInputError(`${what} ${JSON.stringify(uri)} is not of the form s3://<bucket>/<key>`);
  return { bucket: match[1] ?? '', key: match[2] ?? '' };
}

export const s3Uri = (location: ObjectLocation): string => `s3://${location.bucket}/${location.key}`;

/**
 * `runs/<state machine>/<execution name>/`: one folder per execution, stable across a redrive (same ARN), so a
 * retried or redriven step overwrites its own artifacts instead of adding new ones.
 */
export function executionPrefix(executionArn: string): string {
  const match = /^arn:[^:]+:states:[^:]*:[^:]*:execution:([^:]+):([^:]+)$/.exec(executionArn);
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, '_');
  if (match) return `runs/${safe(match[1] ?? '')}/${safe(match[2] ?? '')}/`;
  // Not an execution ARN (tests, odd callers): still one stable folder per caller.
  return `runs/other/${createHash('sha256').update(executionArn).digest('hex').slice(0, 32)}/`;
}

/** Where each artifact of an execution lives, in one place so the ASL, the steps and the runner agree. */
export function runArtifacts(bucket: string, executionArn: string) {
  const prefix = executionPrefix(executionArn);
  return {
    prefix,
    /** The partitions the Distributed Map reads (ItemReader, JSON array). */
    partitionList: { bucket, key: `${prefix}partitions.json` },
    /** ResultWriter Prefix; Step Functions adds `<map run id>/manifest.json` and the result files under it. */
    mapResultsPrefix: `${prefix}map-results`,
    /** The failed partitions, a manifest that a manual run accepts as input. */
    failedPartitions: { bucket, key: `${prefix}failed-partitions.json` },
    /** The succeeded partitions, read by the Athena registration. */
    succeededPartitions: { bucket, key: `${prefix}succeeded-partitions.json` },
  };
}
