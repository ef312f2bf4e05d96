/**
 * `sls package` for dev and prod, offline and without credentials, once per test run; the packaged CloudFormation
 * template, the function zips and the packaged Glue script are the artefacts under test (there is no AWS account
 * here: deploying is the one step these tests cannot take; docs/first-deploy.md lists what only a real deploy shows).
 *
 * Each class of defect that CloudFormation or the services would only reveal on a real deploy has a rule in
 * tests/deploy/template-rules.ts, checked here over both stages.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXTRA_FUNCTIONS, WILDCARD_ACTIONS, functionLogicalId } from '../../deploy/stack';
import { arrivalRuleId } from '../../deploy/triggers';
import { WAIT_FUNCTIONS } from '../../deploy/waits';
import { glueScriptArtifact, GLUE_SCRIPT_SOURCE } from '../../deploy/glue-script';
import { PARTITION_COLUMN_TYPE } from '../../deploy/glue';
import { loadConfigFile } from '../../domain/config';
import { AWAIT_STEP_FILES, STEP_FILES } from '../../functions';
import {
  SdkCallAnalysis,
  closureOf,
  commandsConstructedIn,
  iamActionOf,
  iamActionsOf,
  loadProgram,
  type SdkCommand,
} from '../deploy/sdk-calls';
import { PACKAGE_ALARM_EMAIL, packageStage } from '../support/package-stack';
import { venvBin } from '../support/python-env';
import { asArray, of, roleStatements, target, type Template } from '../deploy/template';
import {
  GLUE_ETL_WORKER_TYPES,
  MAX_SERVICE_TIMEOUT,
  alarmSubscriptionRules,
  asyncInvocationRules,
  customResourceCode,
  customResourceRules,
  deletionPolicyRules,
  glueJobRules,
  glueLogGroupRules,
  keyPolicyRules,
  listBucketRules,
  liveFunctionRules,
  multipartUploadRules,
  mutuallyExclusiveProperties,
  nameRules,
  s3ScopeRules,
  taskTokenRules,
} from '../deploy/template-rules';
import { ALARM_EMAIL_ENV } from '../../deploy/stage-checks';
import { INTAKE_FUNCTION } from '../../deploy/functions';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the plugin is CommonJS, loaded by the framework
const StageGuardPlugin = require('../../deploy/stage-guard-plugin.js') as {
  new (serverless: unknown, options: unknown): { hooks: Record<string, () => Promise<void>> };
  bucketNameProblems: (stage: string, lake: Record<string, string>, accountId: string) => string[];
};
const { bucketNameProblems } = StageGuardPlugin;

const ROOT = join(__dirname, '..', '..');
const SLS = join(ROOT, 'node_modules', '.bin', 'sls');
const STAGES = ['dev', 'prod'] as const;
const HANDLERS: Record<string, string> = { ...STEP_FILES, ...EXTRA_FUNCTIONS, ...WAIT_FUNCTIONS };

function offlineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CI: 'true',
    SLS_TELEMETRY_DISABLED: '1',
    [ALARM_EMAIL_ENV]: PACKAGE_ALARM_EMAIL,
    ...extra,
  };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_') || env[key] === '') delete env[key];
  return env;
}

/** `sls package` in its own package folder and esbuild work folder, so test runs and helpers never collide. */
function slsPackage(stage: string, extraEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), `sluice-pkg-${stage}-`));
  const workDir = `.esbuild-deploy-test-${stage}-${process.pid}`;
  return new Promise<{ dir: string; status: number | null; output: string }>((done) => {
    const child = spawn(SLS, ['package', '--stage', stage, '--package', dir], {
      cwd: ROOT,
      env: offlineEnv({ SLUICE_ESBUILD_WORK_DIR: workDir, ...extraEnv }),
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (status) => {
      rmSync(join(ROOT, workDir), { recursive: true, force: true });
      done({ dir, status, output });
    });
  });
}

const packaged: Record<string, { dir: string; template: Template }> = {};
const derived: Record<string, SdkCommand[]> = {};
const closureCommands: Record<string, Set<string>> = {};
const seconds: Record<string, number> = {};

beforeAll(async () => {
  let started = Date.now();
  // From the source: what each function's code can send.
  const program = loadProgram();
  const analysis = new SdkCallAnalysis(program);
  for (const [fn, handler] of Object.entries(HANDLERS)) {
    derived[fn] = analysis.commandsOf(handler);
    closureCommands[fn] = commandsConstructedIn(program, closureOf(program, handler));
  }
  seconds.analysis = (Date.now() - started) / 1000;
  // Each stage packaged once per set of inputs, shared with the artifact suite (tests/support/package-stack.ts).
  for (const stage of STAGES) {
    started = Date.now();
    const stack = await packageStage(stage);
    packaged[stage] = { dir: stack.dir, template: stack.template as Template };
    seconds[stage] = (Date.now() - started) / 1000;
  }
}, 600_000);

/** The JS of one function's zip, as it ships. */
function bundleOf(stage: string, fn: string): string {
  const file = `${HANDLERS[fn]!.replace(/\.[^.]+$/, '')}.js`;
  return execFileSync('unzip', ['-p', join(packaged[stage]!.dir, `${fn}.zip`), file], {
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
}

describe.each(STAGES)('the %s template', (stage) => {
  const config = loadConfigFile(join(ROOT, 'config', `${stage}.json`));
  const t = () => packaged[stage]!.template;

  test('passes cfn-lint', () => {
    // W3005: the Serverless Framework itself adds DependsOn on each function's role beside the GetAtt.
    const result = spawnSync(
      venvBin('cfn-lint'),
      ['--ignore-checks', 'W3005', '--', join(packaged[stage]!.dir, 'cloudformation-template-update-stack.json')],
      { encoding: 'utf8' },
    );
    expect(result.error).toBeUndefined();
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });

  // ---------- Rules, one per class of defect (issue 9) ----------
  test('no resource sets mutually exclusive properties (metric filter DefaultValue + Dimensions)', () => {
    expect(mutuallyExclusiveProperties(t())).toEqual([]);
    expect(t().Resources.RejectedArrivalsMetricFilter?.Properties).toMatchObject({
      LogGroupName: `/aws/lambda/sluice-${stage}-${INTAKE_FUNCTION}`,
      FilterPattern: '{ $.metric = "RejectedArrivals" }',
    });
  });

  test(`every custom resource has a ServiceTimeout of at most ${MAX_SERVICE_TIMEOUT} s and a function that times out first`, () => {
    expect(customResourceRules(t())).toEqual([]);
    const custom = Object.entries(t().Resources).filter(([, r]) => r.Type.startsWith('Custom::'));
    expect(custom.map(([id]) => id)).toEqual(config.deploy.retainData ? [] : ['EmptyBucketsOnDelete']);
  });

  test('every custom resource answers CloudFormation exactly once, on every path, before its function times out', () => {
    for (const [id, code] of customResourceCode(t())) {
      const fn = t().Resources[target(t().Resources[id]!.Properties.ServiceToken)!]!;
      const run = spawnSync('python3', [join(ROOT, 'tests', 'deploy', 'custom_resource_harness.py')], {
        input: JSON.stringify({ code, timeout: fn.Properties.Timeout }),
        encoding: 'utf8',
      });
      expect(run.status).toBe(0);
      const results = JSON.parse(run.stdout) as Array<{
        scenario: string;
        responses: Array<{ Status: string; Reason: string; complete: boolean; at: number }>;
        raised: string | null;
        timeout: number;
      }>;
      const expected: Record<string, string> = {
        create: 'SUCCESS',
        update: 'SUCCESS',
        delete: 'SUCCESS',
        'delete, bucket already gone': 'SUCCESS',
        'delete, access denied while IAM propagates': 'SUCCESS',
        'delete, access denied for good': 'FAILED',
        'delete, objects that cannot be deleted': 'FAILED',
        'delete, unexpected error': 'FAILED',
        'delete, throttled': 'FAILED',
        'delete, too many objects for one run': 'FAILED',
        'delete, first response PUT fails': 'SUCCESS',
        'delete, boto3 missing': 'FAILED',
        'delete, event without properties': 'FAILED',
      };
      for (const r of results) {
        expect([id, r.scenario, r.responses.map((x) => x.Status)]).toEqual([id, r.scenario, [expected[r.scenario]]]);
        expect([id, r.scenario, r.responses[0]!.complete, r.responses[0]!.at < r.timeout]).toEqual([
          id,
          r.scenario,
          true,
          true,
        ]);
        if (r.responses[0]!.Status === 'FAILED') expect(r.responses[0]!.Reason).toMatch(/\w+: /);
      }
      expect(results.map((r) => r.scenario).sort()).toEqual(Object.keys(expected).sort());
    }
  });

  test('the bucket emptier may list and delete every object version of the stage buckets, and nothing else', () => {
    if (config.deploy.retainData) return expect(t().Resources.BucketEmptierRole).toBeUndefined();
    const statements = roleStatements(t(), 'BucketEmptierRole');
    const grants = statements.map((s) => [asArray(s.Action).sort(), asArray(s.Resource).map((r) => target(r) ?? r)]);
    const buckets = ['RawBucket', 'CuratedBucket', 'ArtifactsBucket'];
    expect(grants[0]).toEqual([['s3:ListBucket', 's3:ListBucketVersions'], buckets]);
    expect(grants[1]![0]).toEqual(['s3:DeleteObject', 's3:DeleteObjectVersion']);
    expect(JSON.stringify(grants[1]![1])).toBe(
      JSON.stringify(buckets.map((b) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [b, 'Arn'] }, '/*']] }))),
    );
    expect(grants.slice(2).flatMap(([actions]) => actions)).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    // Deleted before the buckets: it refers to them.
    expect(t().Resources.EmptyBucketsOnDelete?.Properties.Buckets).toEqual(buckets.map((b) => ({ Ref: b })));
  });

  test('data resources: RetainExceptOnCreate where data is kept, otherwise deleted after being emptied', () => {
    expect(deletionPolicyRules(t(), config.deploy.retainData)).toEqual([]);
    expect(t().Resources.StateTable?.DeletionPolicy).toBe(config.deploy.retainData ? 'RetainExceptOnCreate' : 'Delete');
  });

  test('every asynchronously invoked function has an alarmed SQS on-failure destination it may send to', () => {
    expect(asyncInvocationRules(t())).toEqual([]);
    const asyncTargets = of(t(), 'AWS::Lambda::Permission').map(([, p]) => target(p.Properties.FunctionName));
    expect(new Set(asyncTargets)).toEqual(
      new Set(
        ['onExecutionStatusChange', 'completeWait', ...(config.deploy.catchUpSchedule ? ['scheduleCatchUp'] : [])].map(
          functionLogicalId,
        ),
      ),
    );
    // The self-healing events have their own queue: the intake's replay would reject them.
    for (const fn of ['OnExecutionStatusChangeLambdaFunction', 'ScheduleCatchUpLambdaFunction']) {
      const conf = of(t(), 'AWS::Lambda::EventInvokeConfig').find(([, c]) => target(c.Properties.FunctionName) === fn);
      if (fn === 'ScheduleCatchUpLambdaFunction' && !config.deploy.catchUpSchedule) continue;
      expect(target(conf?.[1].Properties.DestinationConfig.OnFailure.Destination)).toBe('RecoveryQueue');
    }
  });

  test('every name in the template is within its AWS limit', () => {
    expect(nameRules(t())).toEqual([]);
  });

  test('S3 permissions are scoped to whole folders, never a {key} fragment or a whole bucket', () => {
    expect(s3ScopeRules(t())).toEqual([]);
    for (const d of config.datasets) {
      const id = d.name.charAt(0).toUpperCase() + d.name.slice(1);
      const list = roleStatements(t(), `JobRole${id}`).filter((s) => asArray(s.Action).includes('s3:ListBucket'));
      const curated = list.filter((s) => JSON.stringify(s.Resource).includes(config.lake.curatedBucket));
      // Listings inside the dataset's folders; requests without a prefix (S3's 404 for a missing key) apart.
      expect(curated.map((s) => s.Condition)).toEqual([
        {
          StringLike: {
            's3:prefix': [d.target.folder, `${d.target.folder}*`, `_rejected/${d.name}/`, `_rejected/${d.name}/*`],
          },
        },
        { Null: { 's3:prefix': 'true' } },
      ]);
    }
  });

  test('each crawler waits for its bucket and role, and creates no partition index it may not create', () => {
    for (const [id, crawler] of of(t(), 'AWS::Glue::Crawler')) {
      const role = target(crawler.Properties.Role)!;
      expect([id, asArray(crawler.DependsOn)]).toEqual([id, expect.arrayContaining(['RawBucket', role])]);
      const indexes = JSON.parse(crawler.Properties.Configuration).CreatePartitionIndex;
      const mayIndex = roleStatements(t(), role).some((s) => asArray(s.Action).includes('glue:CreatePartitionIndex'));
      expect([id, indexes === false || mayIndex]).toEqual([id, true]);
    }
  });

  test("each target table's Location is its dataset's folder, and its partition columns have the keys' types", () => {
    for (const d of config.datasets) {
      const table = of(t(), 'AWS::Glue::Table').find(([, x]) => x.Properties.TableInput.Name === d.target.table)?.[1];
      const location: string = table?.Properties.TableInput.StorageDescriptor.Location;
      expect(location).toBe(`s3://${config.lake.curatedBucket}/${d.target.folder}`);
      expect(location).toMatch(/^s3:\/\/[^/]+\/[^{}=]+\/$/);
      expect(table?.Properties.TableInput.PartitionKeys).toEqual(
        d.partitioning.keys.map((k) => ({ Name: k.name, Type: PARTITION_COLUMN_TYPE[k.type] })),
      );
    }
  });

  test('Glue jobs are Glue 5.0 Spark ETL jobs with a worker type and arguments Glue 5.0 accepts', () => {
    expect(glueJobRules(t())).toEqual([]);
    for (const [id, job] of of(t(), 'AWS::Glue::Job'))
      expect([id, GLUE_ETL_WORKER_TYPES.includes(job.Properties.WorkerType)]).toEqual([id, true]);
  });

  // ---------- Issue 26: the second review ----------
  test('task-token answers are granted on "*", and no Step Functions ARN ends in a wildcard glued to a name', () => {
    expect(taskTokenRules(t())).toEqual([]);
  });

  test('every bucket aborts incomplete multipart uploads', () => {
    expect(multipartUploadRules(t())).toEqual([]);
  });

  test("Glue's job and crawler log groups are the stack's, with the stage retention and the key", () => {
    expect(glueLogGroupRules(t())).toEqual([]);
  });

  test('the key policy scopes every service principal to this account (confused deputy)', () => {
    expect(keyPolicyRules(t())).toEqual([]);
  });

  test('s3:ListBucket lists only inside folders; requests without a prefix only where the role reads objects', () => {
    expect(listBucketRules(t())).toEqual([]);
  });

  test('every function is invoked by the stack or says it is invoked by hand; metric filters read live functions', () => {
    expect(liveFunctionRules(t())).toEqual([]);
    expect(t().Resources[functionLogicalId('onArrival')]).toBeUndefined();
    expect(t().Resources[functionLogicalId('replayDeadLetters')]?.Properties.Description).toMatch(/^Invoked by hand/);
  });

  test('alarms e-mail a real address, and a stage that keeps data e-mails someone', () => {
    expect(alarmSubscriptionRules(t(), config.deploy.retainData)).toEqual([]);
  });

  test('the functions that start executions need no DescribeExecution: StartExecution answers a repeat itself', () => {
    // StartExecution is idempotent for STANDARD workflows: the same name and input as a running execution returns
    // the original response; a closed one or other input is ExecutionAlreadyExists
    // (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html). The code reads
    // neither a DescribeExecution nor anything else after that error, so no role needs states:DescribeExecution
    // (and the least-privilege test above would fail if one were granted without code that sends it).
    const starters = Object.keys(HANDLERS).filter((fn) =>
      derived[fn]!.some((c) => iamActionOf(c) === 'states:StartExecution'),
    );
    expect(starters.length).toBeGreaterThan(0);
    for (const fn of starters)
      expect([fn, derived[fn]!.map(iamActionOf).filter((a) => a === 'states:DescribeExecution')]).toEqual([fn, []]);
  });

  test('the Glue script ships as a packaged artifact that each job reads from the deployment bucket', () => {
    // The package is self-consistent: the job's key names the SHA-256 of the script packaged beside the zips
    // (glue-script-plugin.js uploads exactly that file, and refuses one whose hash differs).
    const [job0] = of(t(), 'AWS::Glue::Job');
    const key = /^s3:\/\/\$\{Bucket\}\/(.+)$/.exec(job0![1].Properties.Command.ScriptLocation['Fn::Sub'][0])![1]!;
    expect(key).toMatch(new RegExp(`^serverless/sluice/${stage}/glue/convert_partition-[0-9a-f]{16}\\.py$`));
    const script = readFileSync(join(packaged[stage]!.dir, 'glue', key.split('/').pop()!));
    expect(createHash('sha256').update(script).digest('hex').slice(0, 16)).toBe(/-([0-9a-f]{16})\.py$/.exec(key)![1]);
    expect(glueScriptArtifact(stage).key).toMatch(
      /^serverless\/sluice\/[a-z-]+\/glue\/convert_partition-[0-9a-f]{16}\.py$/,
    );
    for (const [id, job] of of(t(), 'AWS::Glue::Job')) {
      expect([id, job.Properties.Command.ScriptLocation]).toEqual([
        id,
        { 'Fn::Sub': [`s3://\${Bucket}/${key}`, { Bucket: { Ref: 'ServerlessDeploymentBucket' } }] },
      ]);
      const reads = roleStatements(t(), target(job.Properties.Role)!).find((s) =>
        JSON.stringify(s.Resource).includes(key),
      );
      expect([id, reads?.Action]).toEqual([id, ['s3:GetObject']]);
    }
    expect(Object.keys(t().Resources).filter((id) => /Uploader|GlueJobScript/.test(id))).toEqual([]);
  });

  // ---------- Permissions cover every SDK command each bundle can send ----------
  test.each(Object.keys(HANDLERS))("%s's role allows every AWS SDK command its code can send", (fn) => {
    const statements = roleStatements(t(), `${fn.charAt(0).toUpperCase()}${fn.slice(1)}Role`);
    const granted = new Set(statements.filter((s) => s.Effect === 'Allow').flatMap((s) => asArray(s.Action)));
    const needed = derived[fn]!.flatMap(iamActionsOf);
    expect(needed.filter((a) => !granted.has(a))).toEqual([]);
    // Least privilege where an SDK command maps one to one onto an action: nothing granted that no code sends.
    const direct = [...granted].filter((a) => /^(dynamodb|states|sns|athena):|^glue:\w*(Job|Crawler)/.test(a));
    expect(direct.filter((a) => !needed.includes(a)).sort()).toEqual([]);
  });

  test('the analysis reads the code that ships: each bundle names exactly the SDK commands its sources construct', () => {
    for (const fn of Object.keys(HANDLERS)) {
      const bundle = bundleOf(stage, fn);
      const inBundle = new Set(
        [...bundle.matchAll(/new (?:[A-Za-z_$][\w$]*\.)?([A-Z]\w*Command)\(|\.paginate([A-Z]\w*)\)?\(/g)].map(
          (m) => m[1] ?? `${m[2]}Command`,
        ),
      );
      expect([fn, [...inBundle].sort()]).toEqual([fn, [...closureCommands[fn]!].sort()]);
    }
  });

  // ---------- The stack's other guarantees ----------
  test('every bucket is KMS-encrypted, blocks public access, and refuses plain HTTP', () => {
    const buckets = of(t(), 'AWS::S3::Bucket');
    expect(buckets.length).toBeGreaterThanOrEqual(4); // raw, curated, artifacts, deployment
    for (const [id, b] of buckets) {
      expect([
        id,
        b.Properties.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault
          ?.SSEAlgorithm,
      ]).toEqual([id, expect.stringMatching(/^(aws:kms|AES256)$/)]);
      if (id !== 'ServerlessDeploymentBucket')
        expect([id, b.Properties.PublicAccessBlockConfiguration]).toEqual([
          id,
          { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        ]);
      const policy = of(t(), 'AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket?.Ref === id);
      const denies = policy?.[1].Properties.PolicyDocument.Statement.filter(
        (s: { Effect: string; Condition?: { Bool?: Record<string, unknown> } }) =>
          s.Effect === 'Deny' && String(s.Condition?.Bool?.['aws:SecureTransport']) === 'false',
      );
      expect([id, denies?.length]).toEqual([id, 1]);
    }
  });

  test('raw and curated buckets are versioned, and raw sends events to EventBridge', () => {
    const r = t().Resources;
    expect(r.RawBucket?.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(r.CuratedBucket?.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(r.RawBucket?.Properties.NotificationConfiguration).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
    expect(r.RawBucket?.Properties.BucketName).toBe(config.lake.rawBucket);
  });

  test('the state table is on demand, with point-in-time recovery, TTL and encryption', () => {
    expect(t().Resources.StateTable!.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  test('the failure topic is KMS-encrypted and subscribes the stage alarm e-mail when set', () => {
    const topic = t().Resources.FailureTopic!;
    expect(topic.Properties.KmsMasterKeyId).toEqual({ Ref: 'SluiceKey' });
    // The test packages set SLUICE_ALARM_EMAIL (tests/support/package-stack.ts), which wins over the config.
    expect(topic.Properties.Subscription ?? []).toEqual([{ Protocol: 'email', Endpoint: PACKAGE_ALARM_EMAIL }]);
  });

  test('both dead-letter queues are encrypted and alarm as soon as they hold a message', () => {
    for (const [queue, alarm] of [
      ['DeadLetterQueue', 'DeadLetterAlarm'],
      ['RecoveryQueue', 'RecoveryQueueAlarm'],
    ] as const) {
      expect(t().Resources[queue]?.Properties.SqsManagedSseEnabled).toBe(true);
      expect(t().Resources[alarm]?.Properties).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [{ Ref: 'FailureTopic' }],
      });
    }
    for (const [id, rule] of of(t(), 'AWS::Events::Rule'))
      for (const tgt of rule.Properties.Targets)
        expect([id, target(tgt.DeadLetterConfig.Arn)]).toEqual([
          id,
          tgt.Id === 'intakeQueue'
            ? 'DeadLetterQueue'
            : tgt.Id === 'completeWait'
              ? 'WaitEventsDeadLetterQueue'
              : 'RecoveryQueue',
        ]);
  });

  test('arrivals go to the intake queue, consumed in batches with partial failures; the rest dead-letters (issue 12)', () => {
    const resources = t().Resources;
    for (const d of config.datasets) {
      const rule = resources[arrivalRuleId(d)];
      expect(rule?.Properties.Targets).toEqual([
        expect.objectContaining({ Id: 'intakeQueue', Arn: { 'Fn::GetAtt': ['IntakeQueue', 'Arn'] } }),
      ]);
    }
    const queue = resources.IntakeQueue?.Properties;
    expect(queue?.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] },
      maxReceiveCount: 5,
    });
    const consumer = resources[functionLogicalId('onArrivalBatch')]?.Properties;
    expect(queue?.VisibilityTimeout).toBeGreaterThanOrEqual(6 * consumer?.Timeout);
    const mappings = of(t(), 'AWS::Lambda::EventSourceMapping').filter(
      ([, m]) =>
        JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': ['IntakeQueue', 'Arn'] }),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.[1].Properties).toMatchObject({
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    expect(resources.IntakeBacklogAlarm?.Properties).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      AlarmActions: [{ Ref: 'FailureTopic' }],
    });
    const policy = resources.IntakeQueuePolicy?.Properties.PolicyDocument.Statement[0];
    expect(policy).toMatchObject({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage' });
    expect(resources.RejectedArrivalsMetricFilter?.Properties.LogGroupName).toBe(
      `/aws/lambda/sluice-${stage}-onArrivalBatch`,
    );
  });

  test('every Lambda is nodejs22.x on arm64, traced, with its own role and a log group with the stage retention', () => {
    const functions = of(t(), 'AWS::Lambda::Function').filter(([id]) => id !== 'BucketEmptier');
    expect(functions.map(([id]) => id).sort()).toEqual(Object.keys(HANDLERS).map(functionLogicalId).sort());
    const roles = new Set<string>();
    for (const [id, f] of functions) {
      expect([id, f.Properties.Runtime, f.Properties.Architectures, f.Properties.TracingConfig]).toEqual([
        id,
        'nodejs22.x',
        ['arm64'],
        { Mode: 'Active' },
      ]);
      roles.add(f.Properties.Role['Fn::GetAtt'][0]);
    }
    expect(roles.size).toBe(functions.length);
    const logGroups = of(t(), 'AWS::Logs::LogGroup');
    expect(logGroups.length).toBeGreaterThanOrEqual(functions.length + 1);
    for (const [id, g] of logGroups)
      expect([id, g.Properties.RetentionInDays]).toEqual([id, config.deploy.logRetentionDays]);
  });

  test('IAM grants "*" only for the actions AWS does not scope, and never a service-wide action', () => {
    for (const [id] of of(t(), 'AWS::IAM::Role'))
      for (const s of roleStatements(t(), id)) {
        for (const action of asArray(s.Action))
          expect([id, action]).not.toEqual([id, expect.stringMatching(/(^\*$|:\*$)/)]);
        if (asArray(s.Resource).includes('*'))
          for (const action of asArray(s.Action))
            expect([id, action, WILDCARD_ACTIONS[action] !== undefined]).toEqual([id, action, true]);
      }
  });

  test('the start-job step may start only the configured jobs', () => {
    const glue = roleStatements(t(), 'StartJobRunRole').find((s) => asArray(s.Action).includes('glue:StartJobRun'))!;
    expect(asArray(glue.Resource).map((r) => JSON.stringify(r))).toEqual(
      config.datasets.map((d) =>
        JSON.stringify({
          'Fn::Sub': `arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:job/${d.job.name}`,
        }),
      ),
    );
  });

  test('every Task of the state machine invokes a function of this template, and the machine is traced, logged and alarmed', () => {
    const [, machine] = of(t(), 'AWS::StepFunctions::StateMachine')[0]!;
    const [, substitutions] = machine.Properties.DefinitionString['Fn::Sub'] as [
      string,
      Record<string, { 'Fn::GetAtt': [string, string] }>,
    ];
    const targets = Object.values(substitutions).map((v) => v['Fn::GetAtt'][0]);
    // The Task steps, and the await steps the `.waitForTaskToken` Tasks invoke (issue 13).
    expect(new Set(targets)).toEqual(
      new Set([...Object.keys(STEP_FILES), ...Object.keys(AWAIT_STEP_FILES)].map(functionLogicalId)),
    );
    for (const tgt of targets) expect(t().Resources[tgt]?.Type).toBe('AWS::Lambda::Function');
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn).toEqual({
      'Fn::GetAtt': ['StateMachineLogGroup', 'Arn'],
    });
    const alarmed = of(t(), 'AWS::CloudWatch::Alarm')
      .filter(([, a]) => a.Properties.Namespace === 'AWS/States')
      .map(([, a]) => a.Properties.MetricName);
    expect(alarmed.sort()).toEqual(['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut']);
  });

  test('every dataset yields its crawler, job, target table and arrival rule', () => {
    for (const d of config.datasets) {
      const crawler = of(t(), 'AWS::Glue::Crawler').find(([, c]) => c.Properties.Name === d.crawler.name)?.[1];
      expect(crawler?.Properties.RecrawlPolicy.RecrawlBehavior).toBe(
        d.crawler.recrawl === 'new-folders-only' ? 'CRAWL_NEW_FOLDERS_ONLY' : 'CRAWL_EVERYTHING',
      );
      expect(crawler?.Properties.Targets.S3Targets[0].Path).toBe(`s3://${config.lake.rawBucket}/${d.raw.prefix}`);
      const job = of(t(), 'AWS::Glue::Job').find(([, j]) => j.Properties.Name === d.job.name)?.[1];
      expect(job?.Properties).toMatchObject({
        ExecutionProperty: { MaxConcurrentRuns: d.job.maxConcurrentRuns },
        SecurityConfiguration: { Ref: 'GlueSecurityConfiguration' },
        MaxRetries: 0,
      });
      const table = of(t(), 'AWS::Glue::Table').find(([, x]) => x.Properties.TableInput.Name === d.target.table)?.[1];
      expect(table?.Properties.TableInput.StorageDescriptor.Columns).toEqual(
        d.mapping.map((m) => ({ Name: m.target, Type: m.type })),
      );
      const rule = of(t(), 'AWS::Events::Rule').find(([, r]) =>
        JSON.stringify(r.Properties.EventPattern ?? {}).includes(`"prefix":"${d.raw.prefix}"`),
      );
      expect(rule?.[1].Properties.Name).toBe(d.names.arrivalRule);
      expect(rule?.[1].Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': ['IntakeQueue', 'Arn'] });
    }
  });

  test('the Athena workgroup enforces its settings and encrypts results', () => {
    expect(t().Resources.AthenaWorkGroup?.Properties.WorkGroupConfiguration).toMatchObject({
      EnforceWorkGroupConfiguration: true,
      ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS' } },
    });
  });

  test('each function package carries its stage config', () => {
    const listing = execFileSync('unzip', ['-l', join(packaged[stage]!.dir, `${INTAKE_FUNCTION}.zip`)]).toString();
    expect(listing).toContain(`config/${stage}.json`);
  });
});

test('both stages are packaged once for the run (times printed for the record)', () => {
  expect(Object.keys(packaged).sort()).toEqual([...STAGES].sort());
  console.log(
    `deploy tests: SDK-call analysis ${seconds.analysis} s; package dev ${seconds.dev} s, prod ${seconds.prod} s (0 when cached)`,
  );
});

test('a bad dataset config fails the package step, naming the field', async () => {
  const bad = JSON.parse(readFileSync(join(ROOT, 'config', 'dev.json'), 'utf8'));
  bad.datasets[1].partitioning.keys[0].pattern = 'no-anchors';
  const file = join(mkdtempSync(join(tmpdir(), 'sluice-bad-')), 'dev.json');
  writeFileSync(file, JSON.stringify(bad));
  const run = await slsPackage('dev', { SLUICE_CONFIG_FILE: file });
  rmSync(run.dir, { recursive: true, force: true });
  expect(run.status).not.toBe(0);
  expect(run.output).toContain('/datasets/1/partitioning/keys/0/pattern must match pattern');
}, 240_000);

test('a dataset name too long for its EventBridge rule fails the package step, naming the field', async () => {
  const bad = JSON.parse(readFileSync(join(ROOT, 'config', 'dev.json'), 'utf8'));
  bad.datasets[1].name = 'clickstream_events_from_the_corporate_marketing_site';
  const file = join(mkdtempSync(join(tmpdir(), 'sluice-bad-')), 'dev.json');
  writeFileSync(file, JSON.stringify(bad));
  const run = await slsPackage('dev', { SLUICE_CONFIG_FILE: file });
  rmSync(run.dir, { recursive: true, force: true });
  expect(run.status).not.toBe(0);
  expect(run.output).toContain('/datasets/1/name makes the EventBridge rule name');
}, 240_000);

test('a stage whose alarm address is a placeholder fails the package step, naming the stage and the field', async () => {
  // The prod config as it shipped before issue 26.
  const old = JSON.parse(readFileSync(join(ROOT, 'config', 'prod.json'), 'utf8'));
  old.deploy.alarmEmail = 'data-oncall@example.com';
  const file = join(mkdtempSync(join(tmpdir(), 'sluice-bad-')), 'prod.json');
  writeFileSync(file, JSON.stringify(old));
  const placeholder = await slsPackage('prod', { SLUICE_CONFIG_FILE: file, [ALARM_EMAIL_ENV]: '' });
  rmSync(placeholder.dir, { recursive: true, force: true });
  expect(placeholder.status).not.toBe(0);
  expect(placeholder.output).toContain(
    "stage 'prod': config/prod.json /deploy/alarmEmail 'data-oncall@example.com' is a placeholder",
  );
  // The shipped prod config holds no address: it comes from SLUICE_ALARM_EMAIL, and without one prod refuses.
  const missing = await slsPackage('prod', { [ALARM_EMAIL_ENV]: '' });
  rmSync(missing.dir, { recursive: true, force: true });
  expect(missing.status).not.toBe(0);
  expect(missing.output).toContain(
    `stage 'prod' keeps its data (/deploy/retainData) but has no alarm address: set ${ALARM_EMAIL_ENV}`,
  );
}, 240_000);

test('`sls deploy` refuses bucket names without the target account id, naming the stage and the field', () => {
  // The plugin's check, with the account id the provider would resolve (no account here: tested up to that call).
  for (const stage of STAGES) {
    const { lake } = loadConfigFile(join(ROOT, 'config', `${stage}.json`));
    expect(bucketNameProblems(stage, lake, '123456789012')).toEqual([
      expect.stringContaining(
        `stage '${stage}': /lake/rawBucket '${lake.rawBucket}' does not contain the account id 123456789012`,
      ),
      expect.stringContaining(`stage '${stage}': /lake/curatedBucket '${lake.curatedBucket}' does not contain`),
    ]);
  }
  expect(
    bucketNameProblems(
      'prod',
      { rawBucket: 'sluice-prod-raw-123456789012-eu-west-1', curatedBucket: 'c-123456789012' },
      '123456789012',
    ),
  ).toEqual([]);
});

test('the stage guard runs before `sls deploy` changes the stack, with the account the provider resolves', async () => {
  const provider = { getStage: () => 'prod', getAccountId: async () => '123456789012' };
  const plugin = new StageGuardPlugin({ getProvider: () => provider }, { stage: 'prod' });
  expect(Object.keys(plugin.hooks)).toEqual(['before:deploy:deploy']);
  await expect(plugin.hooks['before:deploy:deploy']!()).rejects.toThrow(
    "stage 'prod': /lake/rawBucket 'sluice-prod-raw-eu-west-1' does not contain the account id 123456789012",
  );
  // serverless.yml lists it, so the framework loads it.
  expect(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')).toContain('./deploy/stage-guard-plugin.js');
});

test('the reference Glue script is valid Python (it can only run on AWS Glue)', () => {
  expect(existsSync(GLUE_SCRIPT_SOURCE)).toBe(true);
  const check = spawnSync(
    'python3',
    ['-c', 'import ast,sys; ast.parse(open(sys.argv[1]).read())', GLUE_SCRIPT_SOURCE],
    {
      encoding: 'utf8',
    },
  );
  expect(check.stderr).toBe('');
  expect(check.status).toBe(0);
});
