/**
 * What each partition's conversion left, whether its job run converted it alone or in a batch (docs/batches.md):
 * the rejects line of `sluice run` and the rejects index (./rejects.ts) read it per partition.
 */
import { readFileSync } from 'node:fs';
import { BATCH_ARGUMENT } from '../../domain/steps';
import type { JobBatch } from '../../schemas/types.generated';
import type { JobRunStats, LocalJobs } from './glue';
import type { LocalLake } from './lake';

export interface PartitionJobStats {
  /** The job run's id; a batch partition's is `<run id>/<run key>`, unique per partition and run. */
  id: string;
  state: string;
  /** The arguments a single run of the partition has (`--sluice_dataset`, `--sluice_partition`, ...). */
  arguments: Record<string, string>;
  stats?: JobRunStats;
}

/**
 * One entry per partition per job run, in the order the runs started: a job run of one partition as it is; a batch
 * job run (`--sluice_batch`) as one entry per partition of its batch file, with the stats the run kept for it (none
 * for a partition it has not converted, e.g. while it runs or when it failed before reading it).
 */
export function partitionJobStats(jobs: LocalJobs, lake: LocalLake): PartitionJobStats[] {
  return jobs.allStats().flatMap((run): PartitionJobStats[] => {
    const batchUri = run.arguments[BATCH_ARGUMENT];
    if (batchUri === undefined) return [run];
    let batch: JobBatch;
    try {
      batch = JSON.parse(readFileSync(lake.pathOf(batchUri), 'utf8')) as JobBatch;
    } catch {
      return []; // the run could not read its batch file either: it converted nothing
    }
    return batch.partitions.map((p) => {
      const stats = jobs.batchStatsFor(run.id, p.runKey);
      const args = {
        ...run.arguments,
        '--sluice_partition': JSON.stringify(p.partition),
        '--sluice_run_key': p.runKey,
      };
      return { id: `${run.id}/${p.runKey}`, state: run.state, arguments: args, ...(stats ? { stats } : {}) };
    });
  });
}
