/**
 * Rejects files of superseded runs (issue 25): a partition's job run writes its rejected rows to
 * `<curated>/_rejected/<dataset>/<run key>.csv`, one file per run. When a later run reads the partition again, the
 * older file describes rows that are no longer there, so it is removed. Which file is current is kept per dataset
 * in `_rejected/<dataset>/_current.json` (partition -> file name, or null when the newest run rejected nothing), so
 * a later process knows it too.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ResolvedConfig } from '../../domain/config';
import type { LocalLake } from './lake';

interface FinishedJobRun {
  id: string;
  state: string;
  arguments: Record<string, string>;
  stats?: { rejectsFile?: string };
}

export const CURRENT_REJECTS_FILE = '_current.json';

export class RejectsIndex {
  private readonly seen = new Set<string>();

  constructor(
    private readonly lake: LocalLake,
    private readonly config: ResolvedConfig,
  ) {}

  /** The folder of a dataset's rejects files. */
  folderOf(datasetName: string): string | undefined {
    const dataset = this.config.datasets.find((d) => d.name === datasetName);
    return dataset && join(this.lake.bucketDir(dataset.target.bucket), '_rejected', dataset.name);
  }

  /**
   * Takes in the job runs that have read their partition to the end (they have stats) since the last call, oldest
   * first, and removes each partition's older rejects file. A run that failed before reading (no stats) supersedes
   * nothing: the older file still describes the partition's files.
   */
  supersede(runs: readonly FinishedJobRun[]): void {
    const byDataset = new Map<string, Array<{ partition: string; file: string | null }>>();
    for (const run of runs) {
      if (this.seen.has(run.id) || run.state === 'RUNNING' || !run.stats) continue;
      this.seen.add(run.id);
      const dataset = run.arguments['--sluice_dataset'];
      const partition = run.arguments['--sluice_partition'];
      if (!dataset || !partition) continue;
      const list = byDataset.get(dataset) ?? [];
      list.push({ partition, file: run.stats.rejectsFile ? basename(run.stats.rejectsFile) : null });
      byDataset.set(dataset, list);
    }
    for (const [dataset, updates] of byDataset) {
      const folder = this.folderOf(dataset);
      if (!folder) continue;
      const indexFile = join(folder, CURRENT_REJECTS_FILE);
      const known = existsSync(indexFile);
      // Nothing to remember for a dataset that has never had a rejects file: no folder is made for it.
      if (!known && updates.every((u) => u.file === null)) continue;
      const current = known ? (JSON.parse(readFileSync(indexFile, 'utf8')) as Record<string, string | null>) : {};
      for (const { partition, file } of updates) {
        const older = current[partition];
        if (older && older !== file) rmSync(join(folder, older), { force: true });
        current[partition] = file;
      }
      mkdirSync(folder, { recursive: true });
      const tmp = `${indexFile}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(current, null, 1));
      renameSync(tmp, indexFile);
    }
  }
}
