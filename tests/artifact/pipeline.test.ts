/**
 * Issue 9: the state-machine scenarios against what was packaged. The ASL is the one in the packaged template,
 * bound to the packaged functions; each Task calls the handler loaded from that function's own zip (the minified
 * bundle); every AWS call goes over HTTP to loopback services that answer in AWS's wire format and error shapes.
 * Every scenario asserts the run's final status and output: an assertion inside a Task could be swallowed by Catch.
 */
import { unsuccessfulStates } from '../../runtime/state-machine';
import { join } from 'node:path';
import { loadConfigFile, rawPartitionPrefix } from '../../domain/config';
import { reportOf, STAGE, usePackagedWorld, type PackagedWorld } from './support';
import { faults } from '../support/aws-fakes';

let world: PackagedWorld;
let runs = 0;
usePackagedWorld((w) => (world = w));

/** A fresh execution name and day per scenario (DynamoDB keeps its items between scenarios). */
function scenario(days: number[]) {
  const n = ++runs;
  // The year tells scenarios apart: every key value stays within its pattern in config/test.json.
  const partitions = days.map((d) => ({ year: String(2000 + n), month: '03', day: String(d).padStart(2, '0') }));
  return { name: `artifact-${n}`, input: { dataset: 'orders', partitions, skipCrawler: false }, partitions };
}

const JOB = 'sluice-test-orders-job';

test('happy path: crawl, one job run per partition, partitions registered with typed literals, no notification', async () => {
  const { name, input, partitions } = scenario([5, 6]);
  const run = await world.run(name, input);
  expect(run.thrown).toEqual([]);
  expect(run.status).toBe('SUCCEEDED');
  expect(run.output).toMatchObject({
    jobResults: { succeededCount: 2, failedCount: 0 },
    refresh: { done: true, partitionCount: 2 },
  });
  expect(world.fakes.glue.runs.map((r) => JSON.parse(r.Arguments['--sluice_partition']!))).toEqual(
    expect.arrayContaining(partitions),
  );
  expect(world.fakes.glue.runs).toHaveLength(2);
  expect(world.fakes.server.callsOf('glue', 'StartCrawler')).toHaveLength(1);
  // Defect 12: int keys take int literals in the packaged bundle's DDL.
  const [query] = world.fakes.athena.queries;
  expect(query?.sql).toContain(`PARTITION (\`year\` = ${2000 + runs}, \`month\` = 3, \`day\` = 5)`);
  expect(world.fakes.sns.published).toEqual([]);
}, 60_000);

test('a throttled start: the bundle throws AwsThrottledError, the ASL retries it, the run succeeds', async () => {
  const { name, input } = scenario([7]);
  // The SDK's standard retry strategy makes 3 attempts; all three are throttled, so the Lambda fails.
  world.fakes.server.failNext('glue', 'StartJobRun', faults.throttling(), 3);
  const run = await world.run(name, input);
  expect(run.thrown).toEqual([expect.objectContaining({ stepId: 'startJobRun', error: 'AwsThrottledError' })]);
  expect(JSON.parse(run.thrown[0]!.cause)).toMatchObject({ errorType: 'AwsThrottledError' });
  expect(world.fakes.server.callsOf('glue', 'StartJobRun')).toHaveLength(4);
  expect(run.status).toBe('SUCCEEDED');
  expect(run.output).toMatchObject({ jobResults: { succeededCount: 1, failedCount: 0 } });
  expect(world.fakes.glue.runs).toHaveLength(1);
}, 60_000);

test('ConcurrentRunsExceeded is retried by name, then the run succeeds', async () => {
  const { name, input } = scenario([8]);
  world.fakes.server.failNext('glue', 'StartJobRun', faults.concurrentRunsExceeded(JOB), 2);
  const run = await world.run(name, input);
  expect(run.thrown.map((t) => t.error)).toEqual(['ConcurrentRunsExceededError', 'ConcurrentRunsExceededError']);
  expect(run.status).toBe('SUCCEEDED');
  expect(run.output).toMatchObject({ jobResults: { succeededCount: 1, failedCount: 0 } });
  expect(world.fakes.sns.published).toEqual([]);
}, 60_000);

test('ConcurrentRunsExceeded on every attempt: the Catch result and the SNS message name ConcurrentRunsExceededError', async () => {
  const { name, input, partitions } = scenario([9]);
  world.fakes.server.failNext('glue', 'StartJobRun', faults.concurrentRunsExceeded(JOB), 100);
  const run = await world.run(name, input);
  expect(run.thrown).toHaveLength(9); // first attempt + MaxAttempts 8
  expect(run.status).toBe('FAILED');
  expect(run.error).toBe('SluiceRunFailed');
  const [message] = world.fakes.sns.published;
  expect(world.fakes.sns.published).toHaveLength(1);
  expect(reportOf(message!.message)).toMatchObject({
    failedPartitions: [{ partition: partitions[0], ok: false, state: 'ERROR', message: 'ConcurrentRunsExceededError' }],
    rerunInput: { dataset: 'orders', manifest: expect.stringMatching(/\/failed-partitions\.json$/) },
  });
}, 60_000);

test('one partition failing: the others finish and are registered, one notification names the failed one', async () => {
  const { name, input, partitions } = scenario([10, 11, 12]);
  const failing = JSON.stringify(partitions[1]);
  world.fakes.glue.jobOutcome = (args) =>
    args['--sluice_partition'] === failing
      ? { state: 'FAILED', errorMessage: 'AnalysisException: bad column' }
      : { state: 'SUCCEEDED' };
  const run = await world.run(name, input);
  expect(run.status).toBe('FAILED');
  expect(run.error).toBe('SluiceRunFailed');
  expect(world.fakes.glue.runs).toHaveLength(3);
  expect(world.fakes.athena.queries).toHaveLength(1);
  expect(world.fakes.athena.queries[0]!.sql).not.toContain('`day` = 11)');
  expect(world.fakes.sns.published).toHaveLength(1);
  const report = reportOf(world.fakes.sns.published[0]!.message);
  expect(report).toMatchObject({
    error: 'JobRunsFailed',
    failedPartitions: [
      { partition: partitions[1], ok: false, state: 'FAILED', message: 'AnalysisException: bad column' },
    ],
    // Issue 12: the failed partitions are stored as an object; the re-run input names it (a manifest input).
    rerunInput: { dataset: 'orders', manifest: expect.stringMatching(/\/failed-partitions\.json$/), skipCrawler: true },
  });
}, 60_000);

test('the crawler busy with an earlier crawl (CrawlerRunningException): the run waits, starts its own, succeeds', async () => {
  const { name, input } = scenario([16]);
  world.fakes.glue.crawlerRunningSince('sluice-test-orders-raw', 600);
  const run = await world.run(name, input);
  expect(run.thrown).toEqual([]);
  expect(run.status).toBe('SUCCEEDED');
  expect(run.output).toMatchObject({ crawl: { done: true }, jobResults: { succeededCount: 1 } });
  expect(world.fakes.server.callsOf('glue', 'StartCrawler')).toHaveLength(1);

  // The race: GetCrawler said READY, then StartCrawler answers CrawlerRunningException.
  const raced = scenario([17]);
  world.fakes.reset();
  world.fakes.server.failNext('glue', 'StartCrawler', faults.crawlerRunning('sluice-test-orders-raw'));
  const second = await world.run(raced.name, raced.input);
  expect(second.thrown).toEqual([]);
  expect(second.status).toBe('SUCCEEDED');
  expect(world.fakes.server.callsOf('glue', 'StartCrawler').length).toBeGreaterThanOrEqual(2);
}, 60_000);

test('a job Glue does not know (EntityNotFoundException): GlueEntityNotFoundError, the partition fails fast', async () => {
  const { name, input, partitions } = scenario([18]);
  world.fakes.glue.knownNames = new Set(['sluice-test-orders-raw']);
  const run = await world.run(name, input);
  expect(run.thrown.map((t) => [t.stepId, t.error])).toEqual([['startJobRun', 'GlueEntityNotFoundError']]);
  expect(run.status).toBe('FAILED');
  expect(reportOf(world.fakes.sns.published[0]!.message)).toMatchObject({
    failedPartitions: [{ partition: partitions[0], ok: false, message: 'GlueEntityNotFoundError' }],
  });
}, 60_000);

test('the crawler failing: CrawlerFailedError in the Catch result and the SNS message, no job runs', async () => {
  const { name, input } = scenario([13]);
  world.fakes.glue.crawlOutcome = () => ({ status: 'FAILED', errorMessage: 'Internal Service Exception' });
  const run = await world.run(name, input);
  expect(run.status).toBe('FAILED');
  // Issue 13: the packaged completeWait answered the crawler's token Task with SendTaskFailure; the Catch stores it
  // under the same name as the Check step's error, so the report is unchanged.
  expect(run.thrown.map((t) => [t.stepId, t.error])).toEqual([['awaitCrawler', 'CrawlerFailedError']]);
  expect(world.fakes.sfn.answers).toEqual([
    expect.objectContaining({ operation: 'SendTaskFailure', outcome: 'accepted' }),
  ]);
  const notifyInput = run.inputs.find((i) => i.stepId === 'notifyFailure')!.input as {
    state: { failure: Record<string, { Error: string; Cause: string }> };
  };
  expect(notifyInput.state.failure.checkCrawler?.Error).toBe('CrawlerFailedError');
  expect(notifyInput.state.failure.checkCrawler!.Cause).toContain('Internal Service Exception');
  expect(world.fakes.glue.runs).toHaveLength(0);
  const [sent] = world.fakes.sns.published;
  expect(sent?.message).toMatch(/^Error: +CrawlerFailedError$/m);
  expect(sent?.message).toContain('Internal Service Exception');
  expect(sent?.attributes).toMatchObject({ error: 'CrawlerFailedError', failedStep: 'checkCrawler' });
}, 60_000);

test.each([
  ['refused at the start (InvalidRequestException)', 'startPartitionRefresh', 'startPartitionRefresh'],
  ['ending FAILED', 'checkPartitionRefresh', 'awaitPartitionRefresh'],
  ['ending CANCELLED (issue 10: no polling until the 48 h timeout)', 'checkPartitionRefresh', 'awaitPartitionRefresh'],
])(
  'Athena DDL %s: AthenaQueryFailedError, notified once',
  async (how, failedStep, thrownBy) => {
    const { name, input } = scenario([14]);
    if (failedStep === 'startPartitionRefresh')
      world.fakes.server.failNext(
        'athena',
        'StartQueryExecution',
        faults.athenaInvalidRequest('line 1:8: mismatched input'),
      );
    else
      world.fakes.athena.queryOutcome = () =>
        how.includes('CANCELLED')
          ? { state: 'CANCELLED', reason: 'Query cancelled by user' }
          : { state: 'FAILED', reason: 'FAILED: SemanticException' };
    const run = await world.run(name, input);
    expect(run.status).toBe('FAILED');
    // Ending FAILED/CANCELLED: the token Task fails with the SendTaskFailure the packaged completeWait sent.
    expect(run.thrown.map((t) => [t.stepId, t.error])).toEqual([[thrownBy, 'AthenaQueryFailedError']]);
    // One GetQueryExecution saw the end state: the wait ended there instead of polling on.
    if (failedStep === 'checkPartitionRefresh')
      expect(world.fakes.server.callsOf('athena', 'GetQueryExecution').length).toBeLessThanOrEqual(2);
    expect(world.fakes.sns.published).toHaveLength(1);
    expect(reportOf(world.fakes.sns.published[0]!.message)).toMatchObject({
      error: 'AthenaQueryFailedError',
      failedStep,
    });
  },
  60_000,
);

test('a Lambda timeout (Glue started the run, the answer was lost) is retried and attaches to that run', async () => {
  const { name, input } = scenario([15]);
  // The function's timeout, shortened by the runner (the template says 30 s). It counts from the invocation, after
  // the environment's init, as Lambda's does; the lost answer makes the first invocation run into it.
  world.timeouts.set('startJobRun', 5_000);
  world.fakes.server.failNext('glue', 'StartJobRun', faults.lostAnswer());
  const run = await world.run(name, input);
  // middy's early timeout (TimeoutError, 5 ms before the deadline) or Lambda's own (Lambda.Unknown), whichever fires
  // first, as in AWS: both are retried.
  expect(run.thrown).toEqual([
    expect.objectContaining({
      stepId: 'startJobRun',
      error: expect.stringMatching(/^(TimeoutError|Lambda\.Unknown)$/),
    }),
  ]);
  expect(run.thrown[0]!.cause).toMatch(/Task timed out|The operation was aborted/);
  expect(run.status).toBe('SUCCEEDED');
  expect(run.output).toMatchObject({ jobResults: { succeededCount: 1, failedCount: 0 } });
  // The retry found the run the timed-out attempt had started (run key) instead of starting a second writer.
  expect(world.fakes.glue.runs).toHaveLength(1);
}, 60_000);

test('a long dataset name: the SNS subject stays within SNS rules and the notification is delivered', async () => {
  const n = ++runs;
  const dataset = 'clickstream_mobile_apps_eu';
  const partitions = [{ dt: `2024-02-${String((n % 28) + 1).padStart(2, '0')}`, region: 'de' }];
  world.fakes.glue.jobOutcome = () => ({ state: 'FAILED', errorMessage: 'x'.repeat(300) });
  const run = await world.run(`artifact-${n}`, { dataset, partitions, skipCrawler: true });
  expect(run.status).toBe('FAILED');
  expect(run.thrown).toEqual([]);
  expect(world.fakes.sns.published).toHaveLength(1);
  expect(world.fakes.sns.published[0]!.subject!.length).toBeLessThan(100);
  expect(reportOf(world.fakes.sns.published[0]!.message)).toMatchObject({
    dataset,
    rerunInput: { dataset, manifest: expect.stringMatching(/\/failed-partitions\.json$/), skipCrawler: true },
  });
}, 60_000);

describe('redrive of a failed run (issue 9, defect 14)', () => {
  // What AWS documents a redrive re-executes: the states with an Entered event and no Exited event, and, for a
  // Distributed Map whose Map Run failed, its unsuccessful child executions. A Map Run whose children all succeed
  // (each child catches its own error and returns a result) has succeeded, so a redrive re-runs none of them.
  // https://docs.aws.amazon.com/step-functions/latest/dg/redrive-map-run.html
  // https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html
  test('re-executes only "Fail the run": no partition is reprocessed; the stored re-run input is the way', async () => {
    const { name, input, partitions } = scenario([20, 21, 22]);
    const failing = JSON.stringify(partitions[2]);
    world.fakes.glue.jobOutcome = (args) =>
      args['--sluice_partition'] === failing ? { state: 'FAILED', errorMessage: 'OOM' } : { state: 'SUCCEEDED' };
    const run = await world.run(name, input);
    expect(run.status).toBe('FAILED');
    expect(run.events.filter((e) => e.type === 'MapIterationSucceeded')).toHaveLength(3);
    expect(run.events.filter((e) => e.type === 'MapIterationFailed')).toHaveLength(0);
    expect(unsuccessfulStates(run.events)).toEqual(['Fail the run']);

    // The documented way: a new execution with the re-run input from the one SNS message re-runs exactly the failed
    // partition (and skips the crawl that already succeeded).
    expect(world.fakes.sns.published).toHaveLength(1);
    const rerunInput = reportOf(world.fakes.sns.published[0]!.message).rerunInput;
    // Issue 12: the failed partitions are an object in the artifacts bucket; the input names it.
    const { manifest } = rerunInput as { manifest: string };
    expect(rerunInput).toEqual({ dataset: 'orders', manifest, skipCrawler: true });
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(manifest)!;
    const failedList = world.fakes.s3.text(bucket!, key!)!;
    expect(JSON.parse(failedList)).toEqual([partitions[2]]);
    world.fakes.reset();
    world.fakes.s3.put(bucket!, key!, failedList);
    const rerun = await world.run(`${name}-rerun`, rerunInput);
    expect(rerun.status).toBe('SUCCEEDED');
    expect(world.fakes.glue.runs.map((r) => JSON.parse(r.Arguments['--sluice_partition']!))).toEqual([partitions[2]]);
    expect(world.fakes.server.callsOf('glue', 'StartCrawler')).toHaveLength(0);
    expect(world.fakes.sns.published).toHaveLength(0);
  }, 60_000);

  test('a redriven Athena registration starts a new query: the failed one is not handed back', async () => {
    const { name, input } = scenario([23]);
    world.fakes.athena.queryOutcome = () => ({ state: 'FAILED', reason: 'HIVE_METASTORE_ERROR' });
    const first = await world.run(name, input);
    expect(first.status).toBe('FAILED');
    world.fakes.athena.queryOutcome = () => ({ state: 'SUCCEEDED' });
    // Same execution ARN, $$.Execution.RedriveCount 1: what the registration step sees when it runs in a redrive.
    const again = await world.run(name, input, { redriveCount: 1 });
    expect([again.status, again.thrown]).toEqual(['SUCCEEDED', []]);
    expect(world.fakes.athena.queries).toHaveLength(2);
  }, 60_000);
});

test('batches (issue 23): the packaged plan step sizes the partitions from the raw bucket, one Glue run converts them, each partition keeps its own result', async () => {
  // More tiny partitions than the job's 10 concurrent runs: one batch is faster than two waves of single runs.
  const { name, input, partitions } = scenario([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]);
  const config = loadConfigFile(join('config', `${STAGE}.json`));
  const orders = config.datasets.find((d) => d.name === 'orders')!;
  for (const p of partitions)
    world.fakes.s3.put(
      config.lake.rawBucket,
      `${rawPartitionPrefix(orders, p)}f.csv`,
      'order_id,customer,amount,ordered_at\n1,c1,2.00,2024-01-05T00:00:00Z\n',
    );
  const bad = partitions[2]!;
  world.fakes.glue.jobOutcome = () => ({
    state: 'SUCCEEDED',
    partitionFailure: (p) => (p.day === bad.day ? 'bad rows over the limit in f.csv' : undefined),
  });
  const run = await world.run(name, input);
  expect(run.thrown).toEqual([]);
  expect(run.status).toBe('FAILED');
  // Tiny partitions: one job run, its batch file named by --sluice_batch.
  expect(world.fakes.glue.runs).toHaveLength(1);
  expect(world.fakes.glue.runs[0]!.Arguments['--sluice_batch']).toMatch(/\/batches\/0\.json$/);
  const report = reportOf(world.fakes.sns.published[0]!.message) as {
    failedPartitions: Array<{ partition: unknown; message: string }>;
    failedCount: number;
  };
  expect(report.failedCount).toBe(1);
  expect(report.failedPartitions).toEqual([
    expect.objectContaining({ partition: bad, message: 'bad rows over the limit in f.csv' }),
  ]);
  // The three good partitions are registered.
  expect(world.fakes.athena.queries.map((q) => q.sql).join('\n')).toContain(`\`day\` = 13`);
}, 60_000);
