/**
 * Issue 15, Rows on AWS, tested on what ships: the packaged startJobRun bundle asks the (fake) Glue job for a row
 * summary in the artifacts bucket; the fake job writes it to the S3 fake as the Glue script does; the packaged
 * checkJobRun bundle reads it with its real S3 client (AWS_ENDPOINT_URL_S3) and prints RowsIn/RowsOut/RowsBad as
 * EMF JSON on stdout, once, on the check that sees the run SUCCEEDED. A missing or malformed summary is a named
 * error that survives minification.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { writeMapRunResults } from '../../adapters/local/distributed-map';
import { type ArtifactStore, runArtifacts } from '../../domain/common';
import { usePackagedWorld, type PackagedWorld } from './support';

let world: PackagedWorld;
let runs = 0;
usePackagedWorld((w) => (world = w));

beforeEach(() => {
  world.fakes.glue.pollsUntilDone = 1;
});

interface Invocation {
  stdout: string;
  result?: Record<string, unknown>;
  error?: { name: string; message: string };
}

/**
 * One invocation of a packaged function in a fresh Node process (its zip, its environment from the template, the
 * fakes' endpoints), with its stdout kept: EMF lines are what CloudWatch would extract. Asynchronous, so the fakes
 * in this process keep answering.
 */
function invokeBundle(key: string, event: unknown): Promise<Invocation> {
  const fn = world.stack.functions[key]!;
  const root = world.lambdas.taskRoot(key);
  const [file, exported] = [fn.handler.slice(0, fn.handler.lastIndexOf('.')), fn.handler.split('.').pop()!];
  const script = `
    const h = require(${JSON.stringify(join(root, file))})[${JSON.stringify(exported)}];
    const context = { functionName: ${JSON.stringify(fn.functionName)}, awsRequestId: 'req-1',
      invokedFunctionArn: ${JSON.stringify(fn.arn)}, memoryLimitInMB: '256', getRemainingTimeInMillis: () => 30000 };
    h(JSON.parse(process.argv[1]), context).then(
      (r) => process.stdout.write('RESULT ' + JSON.stringify(r) + '\\n'),
      (e) => process.stdout.write('ERROR ' + JSON.stringify({ name: e.name, message: e.message }) + '\\n'));`;
  const own = Object.fromEntries(Object.entries(fn.environment).map(([k, v]) => [k, world.stack.resolve(v)]));
  const child = spawn(process.execPath, ['-e', script, JSON.stringify(event)], {
    cwd: root,
    env: { PATH: process.env.PATH, TZ: 'UTC', ...own, ...world.fakes.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', () => {
      const result = /^RESULT (.*)$/m.exec(stdout)?.[1];
      const error = /^ERROR (.*)$/m.exec(stdout)?.[1];
      if (result) resolve({ stdout, result: JSON.parse(result) as Record<string, unknown> });
      else if (error) resolve({ stdout, error: JSON.parse(error) as Invocation['error'] });
      else reject(new Error(`${key} printed no outcome:\n${stdout}\n${stderr}`));
    });
  });
}

/** An Embedded Metric Format line: the metric values at the top level, their declaration under `_aws`. */
interface EmfDocument extends Record<string, unknown> {
  _aws: { Timestamp: unknown; CloudWatchMetrics: unknown[] };
}

const emfOf = (stdout: string): EmfDocument[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((d): d is EmfDocument => '_aws' in d);

function partitionInput() {
  const n = ++runs;
  return {
    dataset: 'orders',
    partition: { year: String(2080 + n), month: '04', day: '01' },
    executionArn: world.executionArn(`rows-${n}`),
  };
}

/** Start through the packaged bundle, then check until the run is done; every check's invocation is kept. */
async function startAndCheck(input: ReturnType<typeof partitionInput>) {
  const start = await invokeBundle('startJobRun', input);
  if (!start.result) throw new Error(`startJobRun failed: ${JSON.stringify(start.error)}`);
  const checks: Invocation[] = [];
  let job = start.result;
  while (job.done !== true) {
    const check = await invokeBundle('checkJobRun', { ...input, job });
    checks.push(check);
    if (!check.result) break;
    job = check.result;
  }
  return { start, checks };
}

test('the packaged check reads the summary from S3 and prints RowsIn/RowsOut/RowsBad once, as EMF JSON', async () => {
  world.fakes.glue.jobOutcome = () => ({ state: 'SUCCEEDED', rows: { in: 7, out: 6, bad: 1 } });
  const input = partitionInput();
  const { start, checks } = await startAndCheck(input);

  const [run] = world.fakes.glue.runs;
  const bucket = world.stack.resolve(world.stack.functions.checkJobRun!.environment.SLUICE_ARTIFACTS_BUCKET);
  expect(run!.Arguments['--sluice_summary_path']).toMatch(
    new RegExp(`^s3://${bucket}/job-summaries/orders/sk1-[0-9a-f]{40}\\.json$`),
  );
  expect(checks.length).toBeGreaterThanOrEqual(2);
  const last = checks.at(-1)!;
  expect(last.result).toMatchObject({ done: true, result: { ok: true, rows: { in: 7, out: 6, bad: 1 } } });
  expect(world.fakes.server.callsOf('s3', 'GetObject')).toHaveLength(1);

  // Polls that saw the run RUNNING print no row metrics; the final check prints them once.
  const rowDocs = [start, ...checks].flatMap((i) => emfOf(i.stdout)).filter((d) => 'RowsIn' in d);
  expect(rowDocs).toHaveLength(1);
  const emf = rowDocs[0]!;
  expect(emf).toMatchObject({ stage: 'test', dataset: 'orders', RowsIn: 7, RowsOut: 6, RowsBad: 1 });
  expect(emf._aws.CloudWatchMetrics).toEqual([
    {
      Namespace: 'sluice',
      Dimensions: [['stage', 'dataset']],
      Metrics: expect.arrayContaining([
        { Name: 'RowsIn', Unit: 'Count' },
        { Name: 'RowsOut', Unit: 'Count' },
        { Name: 'RowsBad', Unit: 'Count' },
      ]),
    },
  ]);
  expect(emf.service).toBeUndefined();
}, 120_000);

test('a SUCCEEDED run without its summary: the bundle throws JobSummaryMissingError by name, no rows printed', async () => {
  world.fakes.glue.jobOutcome = () => ({ state: 'SUCCEEDED', rows: 'none' });
  const { checks } = await startAndCheck(partitionInput());
  const last = checks.at(-1)!;
  expect(last.error).toMatchObject({
    name: 'JobSummaryMissingError',
    message: expect.stringContaining('wrote no row summary at s3://'),
  });
  expect(checks.flatMap((c) => emfOf(c.stdout)).filter((d) => 'RowsIn' in d)).toEqual([]);
}, 120_000);

test('a malformed summary: JobSummaryInvalidError by name', async () => {
  world.fakes.glue.jobOutcome = () => ({ state: 'SUCCEEDED', rows: { body: '{"version":1,"rowsIn":"lots"}' } });
  const { checks } = await startAndCheck(partitionInput());
  expect(checks.at(-1)!.error).toMatchObject({
    name: 'JobSummaryInvalidError',
    message: expect.stringContaining('/rowsIn must be integer'),
  });
}, 120_000);

test('S3 throttling on the read is AwsThrottledError (retried by the ASL), not a missing summary', async () => {
  world.fakes.glue.jobOutcome = () => ({ state: 'SUCCEEDED', rows: { in: 1, out: 1, bad: 0 } });
  const { s3Faults } = await import('../support/aws-fakes/s3');
  // The SDK's standard strategy makes 3 attempts; all of them are told to slow down.
  world.fakes.s3.failNext('GetObject', s3Faults.slowDown(), 3);
  const { checks } = await startAndCheck(partitionInput());
  expect(checks.at(-1)!.error).toMatchObject({ name: 'AwsThrottledError' });
}, 120_000);

test('the packaged summary step prints PartitionsProcessed/PartitionsFailed from the Map run it reads in S3', async () => {
  const bucket = world.stack.resolve(world.stack.functions.summarizeJobRuns!.environment.SLUICE_ARTIFACTS_BUCKET);
  world.fakes.s3.createBucket(bucket);
  const store: ArtifactStore = {
    bucket,
    put: async (l, body) => world.fakes.s3.put(l.bucket, l.key, body, 'application/json'),
    get: async (l) => world.fakes.s3.text(l.bucket, l.key) ?? null,
  };
  const executionArn = world.executionArn(`summary-${++runs}`);
  const child = (day: string, ok: boolean) => {
    const partition = { year: '2024', month: '01', day };
    return {
      name: `c${day}`,
      input: { dataset: 'orders', executionArn, partition },
      startedAt: new Date('2024-03-01T10:00:00Z'),
      stoppedAt: new Date('2024-03-01T10:05:00Z'),
      status: 'SUCCEEDED' as const,
      output: ok ? { partition, ok, state: 'SUCCEEDED' } : { partition, ok, state: 'FAILED', message: 'boom' },
    };
  };
  const writer = {
    Resource: 'arn:aws:states:::s3:putObject',
    Parameters: { Bucket: bucket, Prefix: runArtifacts(bucket, executionArn).mapResultsPrefix },
  };
  const machine = executionArn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, '');
  const mapRun = await writeMapRunResults(store, writer, machine, 'Process each partition', [
    child('01', true),
    child('02', true),
    child('03', false),
  ]);
  const { stdout, result, error } = await invokeBundle('summarizeJobRuns', { dataset: 'orders', executionArn, mapRun });
  expect(error).toBeUndefined();
  expect(result).toMatchObject({ succeededCount: 2, failedCount: 1 });
  const docs = emfOf(stdout);
  expect(docs).toHaveLength(1);
  const emf = docs[0]!;
  expect(emf._aws.CloudWatchMetrics).toEqual([
    {
      Namespace: 'sluice',
      Dimensions: [['stage', 'dataset']],
      Metrics: [
        { Name: 'PartitionsProcessed', Unit: 'Count' },
        { Name: 'PartitionsFailed', Unit: 'Count' },
      ],
    },
  ]);
  expect(typeof emf._aws.Timestamp).toBe('number');
  expect(emf).toMatchObject({ stage: 'test', dataset: 'orders', PartitionsProcessed: 2, PartitionsFailed: 1 });
  expect(emf.service).toBeUndefined();
}, 120_000);

test('IAM: the Glue role may put summaries of its own dataset only; the job-run steps may read them', () => {
  const resources = world.stack.template.Resources;
  type Statement = { Action: string | string[]; Resource: unknown };
  const statements = (role: string): Statement[] =>
    (resources[role]!.Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>).flatMap(
      (p) => p.PolicyDocument.Statement,
    );
  const targets = (role: string, action: string): string[] =>
    statements(role)
      .filter((s) => [s.Action].flat().includes(action))
      .flatMap((s) => [s.Resource].flat())
      .map((r) => world.stack.resolve(r))
      .filter((r) => r.includes('-artifacts-'));
  const bucket = world.stack.resolve(world.stack.functions.checkJobRun!.environment.SLUICE_ARTIFACTS_BUCKET);
  // Issue 23: besides, a batch run's file and result (runs/*/batches/): the job reads and writes them, the steps too.
  const batches = `arn:aws:s3:::${bucket}/runs/*/batches/*`;
  expect(targets('JobRoleOrders', 's3:PutObject')).toEqual([`arn:aws:s3:::${bucket}/job-summaries/orders/*`, batches]);
  expect(targets('CheckJobRunRole', 's3:GetObject')).toEqual([`arn:aws:s3:::${bucket}/job-summaries/*`, batches]);
  expect(targets('StartJobRunRole', 's3:GetObject')).toEqual([`arn:aws:s3:::${bucket}/job-summaries/*`, batches]);
  expect(targets('CheckJobRunRole', 's3:PutObject')).toEqual([batches]);
});
