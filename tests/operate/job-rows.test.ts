/**
 * Rows in / out / bad on AWS (issue 15): the start step gives each job run a summary location, the job writes its
 * JobRowSummary there before it succeeds, and the step that sees the run SUCCEEDED reads it; the Lambda wrapper turns
 * `result.rows` into RowsIn/RowsOut/RowsBad once per job run. The Glue script's side is checked with Python (no
 * Spark here: its summary functions run against a stub S3 client). The packaged bundle: tests/artifact/job-rows.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { emfMetrics, lambdaHandler } from '../../adapters/lambda/step';
import { step as checkStep } from '../../functions/check-job-run';
import { parseS3Uri, type ArtifactStore, type Log, validate } from '../../domain/common';
import { jobSummaryLocation, parseJobSummary, SUMMARY_ARGUMENT } from '../../domain/rows';
import type { MetricPoint } from '../../domain/metrics';
import { checkJobRun, jobRunKey, startJobRun } from '../../domain/steps/jobs';
import type { JobRowSummary, JobRunState } from '../../schemas/types.generated';
import { fakeWorld, type FakeWorld } from '../support/fakes';

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:orders-arrival-1';
const P = { year: '2024', month: '01', day: '05' };
const log: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const SCRIPT = join(__dirname, '..', '..', 'adapters', 'aws', 'glue', 'convert_partition.py');

const input = { dataset: 'orders', partition: P, executionArn: ARN };

/** What the cores record through deps.metrics, per step invocation (index into the states runToEnd returns). */
function recordMetrics(world: FakeWorld) {
  const recorded: Array<{ call: number; executionArn: string; points: MetricPoint[] }> = [];
  let call = 0;
  world.deps.metrics = { record: (points, executionArn) => recorded.push({ call, executionArn, points }) };
  return { recorded, next: () => (call += 1) };
}

async function runToEnd(world: FakeWorld, onCall: () => void = () => {}): Promise<JobRunState[]> {
  const states = [await startJobRun(input, world.deps, log)];
  while (!states[states.length - 1]!.done) {
    onCall();
    states.push(await checkJobRun({ ...input, job: states[states.length - 1]! }, world.deps, log));
  }
  return states;
}

const pairs = (points: MetricPoint[]) => points.map((p) => [p.name, p.value, p.dataset]);

describe('the summary location', () => {
  test('derived from the run key, in the artifacts bucket, passed in the run arguments', async () => {
    const world = fakeWorld();
    world.jobs.script = () => ({ pollsToFinish: 5, finalState: 'SUCCEEDED' });
    await startJobRun(input, world.deps, log);
    const runKey = jobRunKey(ARN, 'year=2024/month=01/day=05');
    const expected = `s3://sluice-test-artifacts/job-summaries/orders/${runKey}.json`;
    expect(world.jobs.runs[0]!.arguments[SUMMARY_ARGUMENT]).toBe(expected);
    expect(jobSummaryLocation('sluice-test-artifacts', 'orders', runKey)).toEqual(parseS3Uri(expected));
  });

  test('a stage without an artifacts store asks for no summary and reports no rows (never a made-up zero)', async () => {
    const world = fakeWorld();
    delete world.deps.artifacts;
    const { recorded } = recordMetrics(world);
    const states = await runToEnd(world);
    expect(world.jobs.runs[0]!.arguments).not.toHaveProperty(SUMMARY_ARGUMENT);
    expect(states.at(-1)!.result).toEqual({ partition: P, ok: true, state: 'SUCCEEDED' });
    expect(recorded).toEqual([]);
  });
});

describe('the step that sees the run SUCCEEDED reads the rows', () => {
  test('the result carries the summary counts; only the final check records Rows metrics, polls none', async () => {
    const world = fakeWorld();
    world.jobs.script = () => ({ pollsToFinish: 3, finalState: 'SUCCEEDED', rows: { in: 100, out: 97, bad: 3 } });
    const { recorded, next } = recordMetrics(world);
    const states = await runToEnd(world, next);
    expect(states.length).toBeGreaterThan(3);
    expect(states.at(-1)!.result).toEqual({
      partition: P,
      ok: true,
      state: 'SUCCEEDED',
      rows: { in: 100, out: 97, bad: 3 },
    });
    // One record, by the last call (the check that saw SUCCEEDED), for this execution.
    expect(recorded.map((r) => [r.call, r.executionArn])).toEqual([[states.length - 1, ARN]]);
    expect(pairs(recorded[0]!.points)).toEqual([
      ['RowsIn', 100, 'orders'],
      ['RowsOut', 97, 'orders'],
      ['RowsBad', 3, 'orders'],
    ]);
  });

  test('a start that attaches to an earlier SUCCEEDED run of the same key reports its rows', async () => {
    const world = fakeWorld();
    world.jobs.script = () => ({ pollsToFinish: 1_000, finalState: 'SUCCEEDED', rows: { in: 5, out: 5, bad: 0 } });
    await startJobRun(input, world.deps, log);
    await world.jobs.finish(world.jobs.runs[0]!.id, 'SUCCEEDED');
    const { recorded } = recordMetrics(world);
    const again = await startJobRun(input, world.deps, log);
    expect(recorded.flatMap((r) => pairs(r.points))).toEqual([
      ['RowsIn', 5, 'orders'],
      ['RowsOut', 5, 'orders'],
      ['RowsBad', 0, 'orders'],
    ]);
    expect(again).toMatchObject({ attached: true, done: true, result: { rows: { in: 5, out: 5, bad: 0 } } });
    expect(world.jobs.runs).toHaveLength(1);
  });

  test('a run that did not succeed is reported without reading any summary', async () => {
    const world = fakeWorld();
    world.jobs.script = () => ({ pollsToFinish: 0, finalState: 'FAILED', errorMessage: 'boom' });
    const reads: unknown[] = [];
    const store = world.deps.artifacts!;
    world.deps.artifacts = {
      bucket: store.bucket,
      put: store.put.bind(store),
      get: async (l) => (reads.push(l), null),
    };
    const states = await runToEnd(world);
    expect(states.at(-1)!.result).toEqual({ partition: P, ok: false, state: 'FAILED', message: 'boom' });
    expect(reads).toEqual([]);
  });
});

describe('a SUCCEEDED run without a usable summary is a named error', () => {
  test('missing: JobSummaryMissingError naming the run and the location', async () => {
    const world = fakeWorld();
    world.jobs.script = () => ({ pollsToFinish: 0, finalState: 'SUCCEEDED', rows: 'none' });
    await expect(runToEnd(world)).rejects.toMatchObject({
      name: 'JobSummaryMissingError',
      message: expect.stringMatching(
        /job run jr_0001 SUCCEEDED but wrote no row summary at s3:\/\/sluice-test-artifacts\/job-summaries\/orders\/sk1-/,
      ),
    });
  });

  test.each([
    ['not JSON', '{"rowsIn": 3', /is not JSON/],
    [
      'a field missing',
      JSON.stringify({ version: 1, runKey: 'k', dataset: 'orders', rowsIn: 3, rowsOut: 3, rejectsPath: null }),
      /must have required property 'rowsBad'/,
    ],
    [
      'a negative count',
      JSON.stringify({
        version: 1,
        runKey: 'k',
        dataset: 'orders',
        rowsIn: 3,
        rowsOut: 4,
        rowsBad: -1,
        rejectsPath: null,
      }),
      /rowsBad must be >= 0/,
    ],
    [
      'counts that do not add up',
      JSON.stringify({
        version: 1,
        runKey: 'k',
        dataset: 'orders',
        rowsIn: 3,
        rowsOut: 1,
        rowsBad: 1,
        rejectsPath: null,
      }),
      /1 out \+ 1 bad != 3 in/,
    ],
    [
      'another run',
      JSON.stringify({
        version: 1,
        jobRunId: 'jr_9',
        runKey: 'k',
        dataset: 'orders',
        rowsIn: 1,
        rowsOut: 1,
        rowsBad: 0,
        rejectsPath: null,
      }),
      /written by job run jr_9, not by jr_0001/,
    ],
  ])('malformed (%s): JobSummaryInvalidError', async (_what, body, message) => {
    const world = fakeWorld();
    world.jobs.script = () => ({ pollsToFinish: 0, finalState: 'SUCCEEDED', rows: 'none' });
    const start = await startJobRun(input, world.deps, log);
    const uri = world.jobs.runs[0]!.arguments[SUMMARY_ARGUMENT]!;
    await world.deps.artifacts!.put(parseS3Uri(uri), body);
    await expect(checkJobRun({ ...input, job: start }, world.deps, log)).rejects.toMatchObject({
      name: 'JobSummaryInvalidError',
      message: expect.stringMatching(message),
    });
  });
});

describe('a Lambda emits the rows once per job run', () => {
  test('EMF (the port awsDeps gives): RowsIn/RowsOut/RowsBad in one document, on the SUCCEEDED check only', async () => {
    const world = fakeWorld();
    world.jobs.script = () => ({ pollsToFinish: 2, finalState: 'SUCCEEDED', rows: { in: 40, out: 38, bad: 2 } });
    world.deps.metrics = emfMetrics('test');
    const handler = lambdaHandler(checkStep, () => world.deps);
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
    let state = await startJobRun(input, world.deps, log);
    try {
      while (!state.done) state = (await handler({ ...input, job: state }, {} as never)) as JobRunState;
    } finally {
      spy.mockRestore();
    }
    const docs = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((d) => '_aws' in d);
    const withRows = docs.filter((d) => 'RowsIn' in d);
    expect(withRows).toHaveLength(1);
    expect(withRows[0]).toMatchObject({ stage: 'test', dataset: 'orders', RowsIn: 40, RowsOut: 38, RowsBad: 2 });
    expect(JSON.stringify((withRows[0] as { _aws: unknown })._aws)).toContain('"Namespace":"sluice"');
  });
});

describe('the Glue script writes the summary (Python, without Spark: pyspark is not installed here)', () => {
  function python(code: string, data: unknown): unknown {
    const prelude = [
      'import importlib.util, json, sys',
      `spec = importlib.util.spec_from_file_location("cp", ${JSON.stringify(SCRIPT)})`,
      'cp = importlib.util.module_from_spec(spec); spec.loader.exec_module(cp)',
      'data = json.loads(sys.stdin.read())',
      'class StubS3:',
      '    def __init__(self): self.puts = []',
      '    def put_object(self, **kw): self.puts.append({k: (v.decode("utf-8") if isinstance(v, bytes) else v) for k, v in kw.items()})',
    ].join('\n');
    return JSON.parse(
      execFileSync('python3', ['-c', `${prelude}\n${code}`], { input: JSON.stringify(data) }).toString(),
    );
  }

  test('job_summary + write_job_summary: one PutObject of a JobRowSummary the check step accepts', () => {
    const args = { sluice_run_key: 'sk1-abc', sluice_dataset: 'orders' };
    const uri = 's3://sluice-dev-artifacts-123456789012-eu-west-1/job-summaries/orders/sk1-abc.json';
    const puts = python(
      [
        's3 = StubS3()',
        'cp.write_job_summary(s3, data["uri"], cp.job_summary(data["args"], "jr_1", 10, 3, "s3://c/_rejected/orders/sk1-abc/"))',
        'print(json.dumps(s3.puts))',
      ].join('\n'),
      { args, uri },
    ) as Array<{ Bucket: string; Key: string; Body: string; ContentType: string }>;
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({
      Bucket: 'sluice-dev-artifacts-123456789012-eu-west-1',
      Key: 'job-summaries/orders/sk1-abc.json',
      ContentType: 'application/json',
    });
    const summary = validate<JobRowSummary>('JobRowSummary', JSON.parse(puts[0]!.Body), 'summary');
    expect(summary).toEqual({
      version: 1,
      jobRunId: 'jr_1',
      runKey: 'sk1-abc',
      dataset: 'orders',
      rowsIn: 10,
      rowsOut: 7,
      rowsBad: 3,
      rejectsPath: 's3://c/_rejected/orders/sk1-abc/',
    });
    expect(parseJobSummary(puts[0]!.Body, uri, 'jr_1')).toEqual({ in: 10, out: 7, bad: 3 });
  });

  test('the optional arguments are read from argv (Glue: --name value); absent ones are None', () => {
    const argv = ['script.py', '--JOB_RUN_ID', 'jr_7', '--sluice_summary_path', 's3://a/b.json', '--x=1'];
    expect(
      python(
        'print(json.dumps([cp.optional_argument(data, "JOB_RUN_ID"), cp.optional_argument(data, cp.SUMMARY_ARGUMENT), cp.optional_argument(data, "x"), cp.optional_argument(data, "nope")]))',
        argv,
      ),
    ).toEqual(['jr_7', 's3://a/b.json', '1', null]);
    expect(`--${String(python('print(json.dumps(cp.SUMMARY_ARGUMENT))', null))}`).toBe(SUMMARY_ARGUMENT);
  });

  test('main writes the summary after the curated output and before job.commit (its last act before success)', () => {
    const main = readFileSync(SCRIPT, 'utf8').split('def main():')[1]!;
    const output = main.indexOf('.parquet(args["sluice_target_path"])');
    const write = main.indexOf('write_job_summary(s3, summary_path, summary)');
    const commit = main.indexOf('job.commit()');
    expect(output).toBeGreaterThan(0);
    expect(write).toBeGreaterThan(output);
    expect(commit).toBeGreaterThan(write);
    // No summary of a run that failed its bad-rows limit: the limit check raises before the output is written.
    expect(main.indexOf('could not be cast (limit')).toBeLessThan(output);
  });
});

test('a summary the fake Glue writes is the same shape the script writes (one definition: the schema)', async () => {
  const world = fakeWorld();
  world.jobs.script = () => ({ pollsToFinish: 0, finalState: 'SUCCEEDED', rows: { in: 2, out: 1, bad: 1 } });
  await runToEnd(world);
  const store = world.deps.artifacts as ArtifactStore;
  const text = await store.get(parseS3Uri(world.jobs.runs[0]!.arguments[SUMMARY_ARGUMENT]!));
  expect(validate('JobRowSummary', JSON.parse(text!), 'fake summary')).toBeTruthy();
});
