/** Ranged reads of one local raw file, the local twin of adapters/aws/s3-ranges.ts (same clamping rules). */
import { open } from 'node:fs/promises';
import type { ReadRange } from '../../domain/drift';

export function fileRangeReader(path: string): ReadRange {
  return async (range) => {
    const handle = await open(path, 'r');
    try {
      const size = (await handle.stat()).size;
      const start = 'suffix' in range ? Math.max(0, size - range.suffix) : range.start;
      const end = 'suffix' in range ? size - 1 : Math.min(range.end, size - 1);
      if (end < start) return Buffer.alloc(0);
      const bytes = Buffer.alloc(end - start + 1);
      const { bytesRead } = await handle.read(bytes, 0, bytes.length, start);
      return bytes.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  };
}
