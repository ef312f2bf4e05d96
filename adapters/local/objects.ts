/** The local lake's HeadObject: an object exists when its file does (adapters/local/lake.ts keeps S3 as folders). */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectStorePort } from '../../domain/ports';
import type { LocalLake } from './lake';

export class LocalObjects implements ObjectStorePort {
  readonly heads: Array<{ bucket: string; key: string }> = [];
  constructor(private readonly lake: LocalLake) {}

  async headObject(bucket: string, key: string): Promise<'exists' | 'missing'> {
    this.heads.push({ bucket, key });
    try {
      return statSync(join(this.lake.bucketDir(bucket), key)).isFile() ? 'exists' : 'missing';
    } catch {
      return 'missing';
    }
  }
}
