/**
 * The Glue script's batch plumbing, without Spark (issue 23): a batch partition's arguments are the local engine's
 * (one definition of "a partition of a batch is converted as a single run of it"), the script reads the same
 * arguments list the start step writes, and a batch file it cannot use fails the run naming the file. The
 * conversion itself, on Spark: tests/spark/spark-conformance.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { batchPartitionArguments } from '../../adapters/local/glue';
import { BATCH_ARGUMENT, jobBatch, jobBatchArguments, jobBatchLocation } from '../../domain/steps/jobs';
import { testConfig } from '../support/fakes';

const SCRIPT = join(__dirname, '..', '..', 'adapters', 'aws', 'glue', 'convert_partition.py');
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-dev:run-1';

/** Runs Python with the script loaded as module `cp` and a stub S3 holding `data.objects`; prints JSON. */
function python(code: string, input: unknown): unknown {
  const prelude = [
    'import importlib.util, json, sys',
    `spec = importlib.util.spec_from_file_location("cp", ${JSON.stringify(SCRIPT)})`,
    'cp = importlib.util.module_from_spec(spec); spec.loader.exec_module(cp)',
    'data = json.loads(sys.stdin.read())',
    'class Body:',
    '    def __init__(self, text): self.text = text',
    '    def read(self): return self.text.encode("utf-8")',
    'class StubS3:',
    '    def get_object(self, Bucket, Key): return {"Body": Body(data["objects"]["s3://%s/%s" % (Bucket, Key)])}',
    'def attempt(f):',
    '    try: return {"ok": f()}',
    '    except Exception as e: return {"error": cp.error_text(e)}',
  ].join('\n');
  const out = execFileSync('python3', ['-c', `${prelude}\n${code}`], { input: JSON.stringify(input) });
  return JSON.parse(out.toString());
}

const dataset = testConfig().datasets[0]!;
const location = jobBatchLocation('artifacts', EXECUTION, 0);
const batch = jobBatch(
  dataset,
  [{ partition: { year: '2024', month: '01', day: '05' } }, { partition: { year: '2024', month: '01', day: '06' } }],
  EXECUTION,
  location,
  { bucket: 'artifacts' },
);
const runArgs = jobBatchArguments(dataset, batch, location);
/** The run's arguments as getResolvedOptions gives them to the script: names without the leading dashes. */
const resolved = Object.fromEntries(Object.entries(runArgs).map(([k, v]) => [k.replace(/^--/, ''), v]));

test('a batch partition gets the same arguments on both engines', () => {
  const script = python(
    'print(json.dumps([cp.batch_partition_args(data["args"], p) for p in data["batch"]["partitions"]]))',
    { args: resolved, batch },
  ) as Array<Record<string, string>>;
  batch.partitions.forEach((p, i) => {
    const local = batchPartitionArguments(runArgs, p);
    // The local engine drops the batch argument and takes the summary path from the batch; the script leaves
    // both to its caller (it reads neither from a partition's arguments).
    const { [BATCH_ARGUMENT]: _b, ...scriptArgs } = Object.fromEntries(
      Object.entries(script[i]!).map(([k, v]) => [`--${k}`, v]),
    );
    const { '--sluice_summary_path': summary, ...localArgs } = local;
    expect(scriptArgs).toEqual(localArgs);
    expect(summary).toBe(p.summaryPath);
  });
});

test("the script asks for the batch run's arguments, and they are all there", () => {
  const names = python('print(json.dumps([cp.BATCH_ARGS, cp.BATCH_ARGUMENT]))', null) as [string[], string];
  expect(`--${names[1]}`).toBe(BATCH_ARGUMENT);
  for (const name of names[0].filter((n) => n !== 'JOB_NAME'))
    expect([name, resolved[name] !== undefined]).toEqual([name, true]);
});

test('a batch file it cannot use fails the run, naming the file', () => {
  const uri = runArgs[BATCH_ARGUMENT]!;
  const read = (text: string, datasetName = dataset.name) =>
    python('print(json.dumps(attempt(lambda: cp.read_batch(StubS3(), data["uri"], data["dataset"]))))', {
      uri,
      dataset: datasetName,
      objects: { [uri]: text },
    });
  expect(read(JSON.stringify(batch))).toEqual({ ok: batch });
  expect(read('[1, 2')).toEqual({ error: expect.stringMatching(new RegExp(`^ValueError: batch ${uri} is not JSON`)) });
  expect(read(JSON.stringify({ ...batch, partitions: [] }))).toEqual({
    error: `ValueError: batch ${uri} is not a version 1 batch with partitions`,
  });
  expect(read(JSON.stringify(batch), 'other')).toEqual({
    error: `ValueError: batch ${uri} is of dataset ${dataset.name}, not other`,
  });
  const { targetPath: _t, ...noTarget } = batch.partitions[1]!;
  expect(read(JSON.stringify({ ...batch, partitions: [batch.partitions[0], noTarget] }))).toEqual({
    error: `ValueError: batch ${uri} partition 1 has no targetPath`,
  });
});
