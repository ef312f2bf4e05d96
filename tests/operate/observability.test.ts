/**
 * What ships for observability, read from the packaged artifact: the dashboard and the freshness alarms in the
 * CloudFormation template `sls package` writes, and the embedded-metric-format lines that the minified Lambda
 * bundles (from their zips) print.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshnessAlarmId } from '../../deploy/observability';
import { loadConfigFile, type ResolvedConfig } from '../../domain/config';
import { METRICS } from '../../domain/metrics';
import { PACKAGE_ALARM_EMAIL, openPackage, packageStage, type PackagedStack } from '../support/package-stack';
import { objectEvent } from '../support/events';

const ROOT = join(__dirname, '..', '..');
const STAGE = 'prod';

/**
 * The shared prod package when config/prod.json sets freshnessSlaMinutes; otherwise (until it does) one private
 * package of a copy of the prod config with SLAs set, so the alarm is still asserted in a real template.
 */
async function packaged(): Promise<{ stack: PackagedStack; config: ResolvedConfig; privateDir?: string }> {
  const config = loadConfigFile(join(ROOT, 'config', `${STAGE}.json`));
  if (config.datasets.some((d) => d.freshnessSlaMinutes !== undefined))
    return { stack: await packageStage(STAGE), config };
  const dir = mkdtempSync(join(tmpdir(), 'sluice-e-obs-'));
  const raw = JSON.parse(readFileSync(join(ROOT, 'config', `${STAGE}.json`), 'utf8')) as {
    datasets: Array<Record<string, unknown>>;
  };
  raw.datasets[0]!.freshnessSlaMinutes = 90;
  const configFile = join(dir, `${STAGE}.json`);
  writeFileSync(configFile, JSON.stringify(raw));
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', SLS_TELEMETRY_DISABLED: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_')) delete env[key];
  const workDir = `.esbuild-e-obs-${process.pid}`;
  const out = join(dir, 'package');
  try {
    // osls always writes <repo>/.serverless/serverless-state.json, which a concurrent `sls package` (another test
    // file, another helper) can remove under it: that one failure is retried, any other is reported.
    for (let attempt = 1; ; attempt++) {
      const result = spawnSync(join(ROOT, 'node_modules/.bin/sls'), ['package', '--stage', STAGE, '--package', out], {
        cwd: ROOT,
        env: {
          ...env,
          SLUICE_CONFIG_FILE: configFile,
          SLUICE_ESBUILD_WORK_DIR: workDir,
          SLUICE_ALARM_EMAIL: PACKAGE_ALARM_EMAIL,
        },
        encoding: 'utf8',
        timeout: 300_000,
      });
      if (result.status === 0) break;
      const output = `${result.stdout}\n${result.stderr}`;
      if (attempt < 3 && output.includes('serverless-state.json')) continue;
      throw new Error(`sls package failed:\n${output}`);
    }
  } finally {
    rmSync(join(ROOT, workDir), { recursive: true, force: true });
  }
  return { stack: openPackage(STAGE, out), config: loadConfigFile(configFile), privateDir: dir };
}

let stack: PackagedStack;
let config: ResolvedConfig;
let privateDir: string | undefined;

beforeAll(async () => {
  ({ stack, config, privateDir } = await packaged());
}, 400_000);

afterAll(() => {
  if (privateDir) rmSync(privateDir, { recursive: true, force: true });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- dashboard JSON is untyped; each test narrows what it reads
type Json = any;

describe('the dashboard in the packaged template', () => {
  const body = (): Json => {
    const [, dashboard] = Object.entries(stack.template.Resources).find(
      ([, r]) => r.Type === 'AWS::CloudWatch::Dashboard',
    )!;
    expect(dashboard.Properties.DashboardName).toBe(`sluice-${STAGE}`);
    return JSON.parse(stack.resolve(dashboard.Properties.DashboardBody));
  };

  test('has freshness, throughput, failures, dead-letter depths and latency percentiles', () => {
    const titles = (body().widgets as Json[]).map((w) => w.properties.title ?? '');
    for (const t of [
      /^Freshness/,
      /^Landing to queryable.*p50 \/ p90 \/ p99/,
      /^Throughput/,
      /^Failures/,
      /^Dead-letter/,
    ])
      expect(titles.some((title: string) => t.test(title))).toBe(true);
  });

  test('charts every dataset, on the namespace and exactly the dimensions the Lambdas emit', () => {
    const lines = (body().widgets as Json[]).flatMap((w) => (w.properties.metrics ?? []) as Json[][]);
    const sluice = lines.filter((l) => l[0] === 'sluice');
    for (const l of sluice) {
      expect(Object.keys(METRICS)).toContain(l[1]);
      expect([l[2], l[3], l[4]]).toEqual(['stage', STAGE, 'dataset']);
    }
    for (const d of config.datasets) {
      expect(sluice.some((l) => l[5] === d.name && l[1] === 'LandingToQueryable' && l[6].stat === 'p99')).toBe(true);
      expect(sluice.some((l) => l[5] === d.name && l[1] === 'NewestQueryableArrival')).toBe(true);
      expect(sluice.some((l) => l[5] === d.name && l[1] === 'RunsFailed')).toBe(true);
    }
  });

  test('the dead-letter widget watches every dead-letter queue the template creates', () => {
    const queues = Object.values(stack.template.Resources)
      .filter((r) => r.Type === 'AWS::SQS::Queue')
      .map((r) => r.Properties.QueueName as string)
      .filter((name) => name.endsWith('dead-letters'))
      .sort();
    expect(queues).toEqual(expect.arrayContaining([`sluice-${STAGE}-dead-letters`]));
    const watched = (body().widgets as Json[])
      .flatMap((w) => (w.properties.metrics ?? []) as Json[][])
      .filter((l) => l[0] === 'AWS/SQS')
      .map((l) => l[3])
      .sort();
    expect(watched).toEqual(queues);
  });
});

describe('the freshness alarms in the packaged template', () => {
  test('one per dataset that sets freshnessSlaMinutes, none for the others', () => {
    for (const d of config.datasets) {
      const alarm = stack.template.Resources[freshnessAlarmId(d.name)];
      if (d.freshnessSlaMinutes === undefined) expect(alarm).toBeUndefined();
      else expect(alarm?.Type).toBe('AWS::CloudWatch::Alarm');
    }
  });

  test('alarms when nothing became queryable within the SLA, or it took longer than the SLA', () => {
    const d = config.datasets.find((x) => x.freshnessSlaMinutes !== undefined)!;
    const sla = d.freshnessSlaMinutes!;
    const p = stack.template.Resources[freshnessAlarmId(d.name)]!.Properties;
    const stats = (p.Metrics as Json[]).filter((m) => m.MetricStat);
    expect(stats.map((m) => [m.MetricStat.Metric.MetricName, m.MetricStat.Stat, m.MetricStat.Period])).toEqual([
      ['PartitionsQueryable', 'Sum', Math.min(86_400, sla * 60)],
      ['LandingToQueryable', 'Maximum', Math.min(86_400, sla * 60)],
    ]);
    for (const m of stats) {
      expect(m.MetricStat.Metric.Namespace).toBe('sluice');
      expect(m.MetricStat.Metric.Dimensions).toEqual([
        { Name: 'stage', Value: STAGE },
        { Name: 'dataset', Value: d.name },
      ]);
    }
    const returned = (p.Metrics as Json[]).filter((m) => m.ReturnData);
    expect(returned).toHaveLength(1);
    expect(returned[0].Expression).toBe(`IF(FILL(queryable, 0) < 1 || FILL(latency, 0) > ${sla * 60}, 1, 0)`);
    expect(p).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: 'FailureTopic' }],
    });
    expect(stack.template.Resources.FailureTopic?.Type).toBe('AWS::SNS::Topic');
  });
});

describe('embedded metric format from the packaged bundles', () => {
  /** Runs a function's handler from its zip in a fresh node, with its environment from the template. */
  function invokePackaged(key: string, event: unknown): { stdout: string; result: unknown } {
    const fn = stack.functions[key];
    if (!fn) throw new Error(`the package has no function ${key}: ${Object.keys(stack.functions).join(', ')}`);
    const root = mkdtempSync(join(tmpdir(), `sluice-e-${key}-`));
    try {
      execFileSync('unzip', ['-q', '-o', fn.zip, '-d', root]);
      const [file, exported] = [fn.handler.slice(0, fn.handler.lastIndexOf('.')), fn.handler.split('.').pop()!];
      const script = `
        const h = require(${JSON.stringify(join(root, file))})[${JSON.stringify(exported)}];
        const context = { functionName: ${JSON.stringify(fn.functionName)}, awsRequestId: 'req-1',
          invokedFunctionArn: ${JSON.stringify(fn.arn)}, memoryLimitInMB: '256', getRemainingTimeInMillis: () => 30000 };
        h(JSON.parse(process.argv[1]), context).then(
          (r) => process.stdout.write('RESULT ' + JSON.stringify(r) + '\\n'),
          (e) => { process.stdout.write('ERROR ' + e.message + '\\n'); process.exitCode = 1; });`;
      const env = Object.fromEntries(Object.entries(fn.environment).map(([k, v]) => [k, stack.resolve(v)]));
      const run = spawnSync(process.execPath, ['-e', script, JSON.stringify(event)], {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          ...env,
          AWS_REGION: stack.region,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          POWERTOOLS_LOG_LEVEL: 'SILENT',
        },
        encoding: 'utf8',
        timeout: 30_000,
      });
      const result = /^RESULT (.*)$/m.exec(run.stdout)?.[1];
      if (run.status !== 0 || !result) throw new Error(`${key} failed: ${run.stdout}\n${run.stderr}`);
      return { stdout: run.stdout, result: JSON.parse(result) };
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }

  const emfLines = (stdout: string): Json[] =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .filter((j) => j._aws);

  // A step Lambda's EMF (summarizeJobRuns reads its Map run from S3 since issue 12, so it needs the S3 fake):
  // tests/artifact/job-rows.test.ts, with the rows the packaged checkJobRun prints.

  test('the intake: a rejected arrival is counted, under dataset "none"', () => {
    // The live intake (onArrivalBatch, issue 26): an Object Created event of a bucket that is not the raw bucket.
    const body = JSON.stringify(objectEvent('orders/year=2026/month=01/day=05/a.csv'));
    const { stdout, result } = invokePackaged('onArrivalBatch', { Records: [{ messageId: 'm-1', body }] });
    expect(result).toEqual({ batchItemFailures: [] });
    const [emf] = emfLines(stdout);
    expect(emf).toMatchObject({ stage: STAGE, dataset: 'none', ArrivalsRejected: 1 });
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'sluice', Dimensions: [['stage', 'dataset']] });
  });
});
