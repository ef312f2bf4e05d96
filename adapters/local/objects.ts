/** The local lake's HeadObject: an object exists when its file does (adapters/local/lake.ts keeps S3 as folders). */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectStorePort } from '../../domain/common';
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

  /** The bytes of the files under the prefix (a folder, when the prefix ends in '/'), 0 when there is none. */
  async prefixBytes(bucket: string, prefix: string): Promise<number> {
    const root = this.lake.bucketDir(bucket);
    const sizeOf = (dir: string): number => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return 0;
      }
      let bytes = 0;
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) bytes += sizeOf(path);
        else if (entry.isFile()) bytes += statSync(path).size;
      }
      return bytes;
    };
    return sizeOf(join(root, prefix));
  }
}
