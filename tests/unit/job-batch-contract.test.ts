/**
 * The batch form of a job run (issue 23, docs/batches.md): the JobBatch file, its location and key, and the run's
 * arguments, built from the same pieces as a single-partition run's.
 */
import { s3Uri, validate } from '../../domain/common';
import { jobSummaryLocation } from '../../domain/rows';
import { partitionKey } from '../../domain/config';
import {
  assertArgumentsFit,
  BATCH_ARGUMENT,
  GLUE_ARGUMENTS_MAX_BYTES,
  jobArguments,
  jobBatch,
  jobBatchArguments,
  jobBatchKey,
  jobBatchLocation,
  jobBatchResultLocation,
  jobRunKey,
} from '../../domain/steps/jobs';
import type { JobBatch } from '../../schemas/types.generated';
import { testConfig } from '../support/fakes';

const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-dev:run-1';
const dataset = testConfig().datasets[0]!;
const day = (d: number) => ({ year: '2024', month: '01', day: String(d).padStart(2, '0') });
const days = (count: number) => Array.from({ length: count }, (_, i) => ({ partition: day(i + 1), bytes: 10_000_000 }));

describe('the batch contract', () => {
  test('the batch file lives under the execution, its result next to it', () => {
    const location = jobBatchLocation('artifacts', EXECUTION, 3);
    expect(location).toEqual({ bucket: 'artifacts', key: 'runs/sluice-dev/run-1/batches/3.json' });
    expect(jobBatchResultLocation(location).key).toBe('runs/sluice-dev/run-1/batches/3.result.json');
    expect(() => jobBatchLocation('artifacts', EXECUTION, -1)).toThrow(/batch index -1/);
  });

  test('each partition gets what a single-partition run of it gets: paths, run key, summary location', () => {
    const location = jobBatchLocation('artifacts', EXECUTION, 0);
    const batch = jobBatch(dataset, days(3), EXECUTION, location, { bucket: 'artifacts' });
    expect(validate<JobBatch>('JobBatch', batch, 'batch')).toBe(batch);
    expect(batch.resultPath).toBe(s3Uri(jobBatchResultLocation(location)));
    batch.partitions.forEach((p, i) => {
      const runKey = jobRunKey(EXECUTION, partitionKey(dataset, day(i + 1)));
      const single = jobArguments(dataset, day(i + 1), runKey, jobSummaryLocation('artifacts', dataset.name, runKey));
      expect(p).toEqual({
        partition: day(i + 1),
        runKey,
        sourcePath: single['--sluice_source_path'],
        targetPath: single['--sluice_target_path'],
        summaryPath: single['--sluice_summary_path'],
        bytes: 10_000_000,
      });
    });
  });

  test("the run's arguments: the dataset's, the batch file and the batch key; no partition of its own", () => {
    const location = jobBatchLocation('artifacts', EXECUTION, 0);
    const batch = jobBatch(dataset, days(2), EXECUTION, location);
    const args = jobBatchArguments(dataset, batch, location);
    const single = jobArguments(dataset, day(1), 'k');
    expect(args[BATCH_ARGUMENT]).toBe('s3://artifacts/runs/sluice-dev/run-1/batches/0.json');
    expect(args['--sluice_run_key']).toBe(batch.batchKey);
    for (const name of ['--sluice_partition', '--sluice_source_path', '--sluice_target_path', '--sluice_summary_path'])
      expect(args[name]).toBeUndefined();
    for (const [name, value] of Object.entries(single))
      if (!['--sluice_partition', '--sluice_source_path', '--sluice_target_path', '--sluice_run_key'].includes(name))
        expect([name, args[name]]).toEqual([name, value]);
  });

  test('the arguments stay the same size however many partitions the batch has (they are in the file)', () => {
    const size = (count: number) => {
      const location = jobBatchLocation('artifacts', EXECUTION, 0);
      const args = jobBatchArguments(dataset, jobBatch(dataset, days(count), EXECUTION, location), location);
      return Object.entries(args).reduce((sum, [k, v]) => sum + k.length + v.length, 0);
    };
    expect(size(28)).toBe(size(1));
    // A 1,000-partition batch file is valid and about 400 KB: larger than Glue's arguments could carry.
    const big = jobBatch(
      dataset,
      Array.from({ length: 1000 }, (_, i) => ({
        partition: { year: String(2000 + Math.floor(i / 28)), month: '01', day: String((i % 28) + 1).padStart(2, '0') },
      })),
      EXECUTION,
      jobBatchLocation('artifacts', EXECUTION, 0),
      { bucket: 'artifacts' },
    );
    expect(validate('JobBatch', big, 'big batch')).toBeTruthy();
    expect(JSON.stringify(big).length).toBeGreaterThan(GLUE_ARGUMENTS_MAX_BYTES);
  });

  test("arguments over Glue's 260 KB are refused, naming the largest", () => {
    expect(() => assertArgumentsFit({ '--a': 'x', '--big': 'y'.repeat(GLUE_ARGUMENTS_MAX_BYTES) })).toThrow(
      /over Glue's 266240 \(260 KB\); the largest is --big/,
    );
    expect(assertArgumentsFit({ '--a': 'x' })).toEqual({ '--a': 'x' });
  });

  test('the batch key: same execution and partitions, same key; another order, partition or execution, another', () => {
    const key = jobBatchKey(EXECUTION, ['a', 'b']);
    expect(key).toMatch(/^sb1-[0-9a-f]{40}$/);
    expect(jobBatchKey(EXECUTION, ['a', 'b'])).toBe(key);
    expect(jobBatchKey(EXECUTION, ['b', 'a'])).not.toBe(key);
    expect(jobBatchKey(EXECUTION, ['a'])).not.toBe(key);
    expect(jobBatchKey(`${EXECUTION}x`, ['a', 'b'])).not.toBe(key);
  });

  test('an empty batch or a partition listed twice is refused', () => {
    const location = jobBatchLocation('artifacts', EXECUTION, 0);
    expect(() => jobBatch(dataset, [], EXECUTION, location)).toThrow(/has no partitions/);
    expect(() => jobBatch(dataset, [...days(2), ...days(1)], EXECUTION, location)).toThrow(/lists a partition twice/);
  });
});
