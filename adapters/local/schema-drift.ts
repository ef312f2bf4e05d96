/**
 * The local side of the drift port (issue 24), the twin of adapters/aws/schema-drift.ts: the partitions' files
 * under the lake, their schemas by ranged reads of the files (file-ranges.ts), the raw table the local crawler wrote
 * (the lake's catalog), and the fingerprints in one JSON file under the lake (`schema-fingerprints.json`), which
 * `sluice status` reads too.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  isHiddenFile,
  type DriftPort,
  type FingerprintRecord,
  type FingerprintStore,
  type RawColumn,
  type ReadRange,
} from '../../domain/drift';
import { fileRangeReader } from './file-ranges';
import { holdsData, listFiles } from './glue';
import type { LocalLake } from './lake';

type Stored = Record<string, Record<string, FingerprintRecord>>;

export const FINGERPRINTS_FILE = 'schema-fingerprints.json';

export class FileFingerprints implements FingerprintStore {
  constructor(private readonly file: string) {}

  read(): Stored {
    return existsSync(this.file) ? (JSON.parse(readFileSync(this.file, 'utf8')) as Stored) : {};
  }

  private write(change: (stored: Stored) => void): void {
    const stored = this.read();
    change(stored);
    const tmp = `${this.file}.${randomUUID()}.tmp`;
    writeFileSync(tmp, JSON.stringify(stored, null, 2));
    renameSync(tmp, this.file);
  }

  async list(dataset: string): Promise<FingerprintRecord[]> {
    return Object.values(this.read()[dataset] ?? {});
  }

  async record(record: FingerprintRecord): Promise<FingerprintRecord> {
    let kept = record;
    this.write((stored) => {
      const of = (stored[record.dataset] ??= {});
      kept = of[record.fingerprint] ??= record;
    });
    return kept;
  }

  async markCrawled(dataset: string, fingerprints: readonly string[], at: string): Promise<void> {
    this.write((stored) => {
      for (const fingerprint of fingerprints) {
        const record = stored[dataset]?.[fingerprint];
        if (record) record.crawledAt ??= at;
      }
    });
  }
}

export class LocalDrift implements DriftPort {
  readonly fingerprints: FileFingerprints;

  constructor(
    private readonly lake: LocalLake,
    lakeDir: string,
  ) {
    this.fingerprints = new FileFingerprints(join(lakeDir, FINGERPRINTS_FILE));
  }

  async listFiles(bucket: string, prefix: string): Promise<string[]> {
    const root = this.lake.bucketDir(bucket);
    return listFiles(join(root, prefix))
      .filter((file) => holdsData(file))
      .map((file) => file.slice(root.length + 1))
      .filter((key) => !isHiddenFile(key));
  }

  reader(bucket: string, key: string): ReadRange {
    return fileRangeReader(join(this.lake.bucketDir(bucket), key));
  }

  /** The local crawler's table of that database whose location's last folder gives the table name. */
  async rawTable(database: string, table: string): Promise<RawColumn[] | null> {
    const found = Object.values(this.lake.readCatalog().tables).find(
      (t) => t.database === database && (t.name === table || rawNameOf(t.location) === table),
    );
    return found ? found.columns.map((c) => ({ name: c.name, type: c.type })) : null;
  }
}

const rawNameOf = (location: string): string =>
  (location.split('/').filter(Boolean).pop() ?? '').toLowerCase().replace(/[^a-z0-9_]/g, '_');
