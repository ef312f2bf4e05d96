/**
 * Issue 12 against what was packaged: the ASL from the template with its ItemReader/ResultWriter, the bundles from
 * their zips, the artifacts bucket in the S3 loopback fake. The harness plays Step Functions' part around the
 * interpreter (adapters/local/distributed-map.ts reads the item list and writes the ResultWriter export into the
 * same fake bucket); the bundles write the list (prepareRun), read the export (summarizeJobRuns) and the
 * succeeded list (startPartitionRefresh) over HTTP, as they would on AWS.
 */
import { reportOf, usePackagedWorld, type PackagedWorld } from './support';

let world: PackagedWorld;
let bucket: string;
usePackagedWorld((w) => {
  world = w;
  bucket = world.stack.resolve({ Ref: 'ArtifactsBucket' });
});

const day = (year: number, d: number) => ({ year: String(year), month: '04', day: String(d).padStart(2, '0') });
const json = (text: string | undefined): unknown => (text === undefined ? undefined : JSON.parse(text));

test('a range input: the packaged prepareRun writes the list, the Map reads it, the summary reads the ResultWriter export', async () => {
  const run = await world.run('dm-range-1', {
    dataset: 'orders',
    range: { from: day(2031, 1), to: day(2031, 4) },
    skipCrawler: true,
  });
  expect(run.thrown).toEqual([]);
  expect(run.status).toBe('SUCCEEDED');
  const prefix = `runs/${world.executionArn('dm-range-1').split(':').slice(-2).join('/')}/`;
  expect(json(world.fakes.s3.text(bucket, `${prefix}partitions.json`))).toEqual([1, 2, 3, 4].map((d) => day(2031, d)));
  const keys = world.fakes.s3.keys(bucket);
  expect(keys).toEqual(
    expect.arrayContaining([expect.stringMatching(new RegExp(`^${prefix}map-results/.+/manifest\\.json$`))]),
  );
  expect(run.output).toMatchObject({
    mapRun: { ResultWriterDetails: { Bucket: bucket } },
    jobResults: { total: 4, succeededCount: 4, failedCount: 0, succeeded: { bucket, count: 4 }, failed: null },
    refresh: { done: true, partitionCount: 4 },
  });
  // The bundle read the succeeded list over S3 and registered every partition.
  expect(world.fakes.athena.queries[0]?.sql.match(/PARTITION \(/g)).toHaveLength(4);
  expect(world.fakes.sns.published).toEqual([]);
}, 120_000);

test('a failing partition: one notification with counts and the stored re-run manifest, which a new run accepts', async () => {
  world.fakes.glue.jobOutcome = (args) =>
    JSON.parse(args['--sluice_partition'] ?? '{}').day === '02'
      ? { state: 'FAILED', errorMessage: 'AnalysisException: cannot cast' }
      : { state: 'SUCCEEDED' };
  const run = await world.run('dm-fail-1', {
    dataset: 'orders',
    range: { from: day(2032, 1), to: day(2032, 3) },
    skipCrawler: true,
  });
  expect(run.status).toBe('FAILED');
  expect(world.fakes.sns.published).toHaveLength(1);
  const report = reportOf(world.fakes.sns.published[0]!.message);
  expect(report).toMatchObject({ failedStep: 'processPartitions', error: 'JobRunsFailed', failedCount: 1 });
  const rerun = report.rerunInput as { manifest: string };
  expect(rerun.manifest).toMatch(new RegExp(`^s3://${bucket}/runs/.+/failed-partitions\\.json$`));
  expect(json(world.fakes.s3.text(bucket, rerun.manifest.slice(`s3://${bucket}/`.length)))).toEqual([day(2032, 2)]);

  world.fakes.glue.jobOutcome = () => ({ state: 'SUCCEEDED' });
  const again = await world.run('dm-rerun-1', rerun);
  expect(again.thrown).toEqual([]);
  expect(again.status).toBe('SUCCEEDED');
  expect(again.output).toMatchObject({ jobResults: { total: 1, succeededCount: 1 } });
}, 120_000);

test('a manifest that is not in the bucket: the packaged prepareRun names it, one notification, no job run', async () => {
  const run = await world.run('dm-missing-1', {
    dataset: 'orders',
    manifest: `s3://${bucket}/manifests/none.json`,
  });
  expect(run.status).toBe('FAILED');
  expect(world.fakes.sns.published).toHaveLength(1);
  const report = reportOf(world.fakes.sns.published[0]!.message);
  expect(report.failedStep).toBe('prepareRun');
  expect(String(report.cause)).toContain(`manifest s3://${bucket}/manifests/none.json does not exist`);
  expect(world.fakes.glue.runs).toHaveLength(0);
}, 120_000);
