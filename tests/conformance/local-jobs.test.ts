/** The local job store's look-ups (issue 14): indexed, newest first, and returning copies. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobArguments } from '../../domain/steps/jobs';
import { LocalEngine } from '../../adapters/local/duckdb';
import { LocalJobs } from '../../adapters/local/glue';
import { LocalLake } from '../../adapters/local/lake';
import { testConfig } from '../support/fakes';

test('runs are found by partition and by recency without scanning copies of the whole store', async () => {
  const config = testConfig();
  const orders = config.datasets[0]!;
  const root = mkdtempSync(join(tmpdir(), 'sluice-jobs-'));
  const engine = await LocalEngine.open(1);
  try {
    const jobs = new LocalJobs(config, new LocalLake(root, 'raw-bucket', 'curated-bucket'), engine, {
      now: () => new Date('2024-01-05T00:00:00Z'),
    });
    const day = (d: string) => ({ year: '2024', month: '01', day: d });
    const ids: string[] = [];
    for (const [d, key] of [
      ['05', 'k1'],
      ['06', 'k2'],
      ['05', 'k3'],
    ] as const)
      ids.push(await jobs.startJobRun(orders.job.name, jobArguments(orders, day(d), key)));
    while (jobs.pending.size > 0) await Promise.all([...jobs.pending]);
    const ofDay5 = await jobs.listJobRunsOfPartition(orders.job.name, JSON.stringify(day('05')));
    expect(ofDay5.map((r) => [r.id, r.arguments['--sluice_run_key']])).toEqual([
      [ids[2], 'k3'],
      [ids[0], 'k1'],
    ]);
    expect(await jobs.listJobRunsOfPartition(orders.job.name, JSON.stringify(day('07')))).toEqual([]);
    expect((await jobs.listRecentJobRuns(orders.job.name, 2)).map((r) => r.id)).toEqual([ids[2], ids[1]]);
    const run = await jobs.getJobRun(orders.job.name, ids[0]!);
    expect(run).toMatchObject({ state: 'FAILED', errorMessage: expect.stringMatching(/no data files/) });
    run.state = 'SUCCEEDED';
    expect(() => {
      run.arguments['--sluice_run_key'] = 'changed';
    }).toThrow();
    expect((await jobs.getJobRun(orders.job.name, ids[0]!)).state).toBe('FAILED');
  } finally {
    engine.close();
    rmSync(root, { recursive: true, force: true });
  }
});
