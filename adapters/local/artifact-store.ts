/**
 * Run artifacts as files: s3://<bucket>/<key> is <lake>/<bucket>/<key>, the layout LocalLake uses for the raw and
 * curated zones, so the local ItemReader/ResultWriter stand-ins and the steps read and write the same places.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { type ArtifactStore, type ObjectLocation, InvalidInputError } from '../../domain/common';

/** Per process: with the pid, a temporary file name no other writer uses. */
let temporaryCount = 0;

export class LocalArtifactStore implements ArtifactStore {
  constructor(
    private readonly lakeDir: string,
    readonly bucket: string,
  ) {}

  /** The file of one object; a key that would leave its bucket folder (`..`) is refused. */
  pathOf(location: ObjectLocation): string {
    const bucketDir = resolve(this.lakeDir, location.bucket);
    const path = resolve(bucketDir, location.key);
    if (!path.startsWith(bucketDir + sep))
      throw new InvalidInputError(`object key ${JSON.stringify(location.key)} leaves its bucket`);
    return path;
  }

  // Synchronous on purpose: these objects are small, and fs/promises calls queue behind DuckDB's queries in libuv's
  // thread pool (about 1 s of a 1,000-partition local run, measured by the pipeline bench's profile). A synchronous
  // write-then-rename also cannot interleave with another put in this process, so temporary names never collide.
  async put(location: ObjectLocation, body: string): Promise<void> {
    const path = this.pathOf(location);
    mkdirSync(dirname(path), { recursive: true });
    // Write then rename: a reader never sees half an object, as with S3.
    const temporary = join(dirname(path), `.${process.pid}.${++temporaryCount}.tmp`);
    writeFileSync(temporary, body);
    renameSync(temporary, path);
  }

  async get(location: ObjectLocation): Promise<string | null> {
    try {
      return readFileSync(this.pathOf(location), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }
}
