/** S3 "Object Created" events as EventBridge delivers them to the intake. */
import { encodeS3Key } from '../../adapters/local/lake';

export function objectEvent(key: string, sequencer = '0055AED6DCD90281E5', overrides: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: `id-${key}-${sequencer}`,
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: '2024-03-01T10:00:00Z',
    region: 'eu-west-1',
    resources: ['arn:aws:s3:::raw-bucket'],
    detail: {
      version: '0',
      bucket: { name: 'raw-bucket' },
      object: { key: encodeS3Key(key), size: 120, etag: 'e', sequencer },
      reason: 'PutObject',
    },
    ...overrides,
  };
}
