/**
 * `sls package` for dev and prod, offline and without credentials; the packaged CloudFormation template is the
 * artefact under test (there is no AWS account here: deploying is the one step these tests cannot take).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WILDCARD_ACTIONS, functionLogicalId } from '../../adapters/aws/deploy/stack';
import { loadConfigFile } from '../../domain/config';
import { STEP_FILES } from '../../functions';

const ROOT = join(__dirname, '..', '..');
const SLS = join(ROOT, 'node_modules', '.bin', 'sls');
type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string }; // eslint-disable-line @typescript-eslint/no-explicit-any -- CloudFormation JSON is untyped; each test narrows what it reads
type Template = { Resources: Record<string, Resource> };

function offlineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', SLS_TELEMETRY_DISABLED: '1', ...extra };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_')) delete env[key];
  return env;
}

function sls(stage: string, extraEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), `sluice-pkg-${stage}-`));
  const result = spawnSync(SLS, ['package', '--stage', stage, '--package', dir], {
    cwd: ROOT,
    env: offlineEnv(extraEnv),
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { dir, status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

const packaged: Record<string, { dir: string; template: Template }> = {};

beforeAll(() => {
  for (const stage of ['dev', 'prod']) {
    const run = sls(stage);
    if (run.status !== 0) throw new Error(`sls package --stage ${stage} failed:\n${run.output}`);
    packaged[stage] = {
      dir: run.dir,
      template: JSON.parse(
        readFileSync(join(run.dir, 'cloudformation-template-update-stack.json'), 'utf8'),
      ) as Template,
    };
  }
}, 480_000);

const of = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe.each(['dev', 'prod'])('the %s template', (stage) => {
  const config = loadConfigFile(join(ROOT, 'config', `${stage}.json`));
  const t = () => packaged[stage]!.template;

  test('passes cfn-lint', () => {
    // W3005: the Serverless Framework itself adds DependsOn on each function's role beside the GetAtt.
    const result = spawnSync(
      'cfn-lint',
      ['--ignore-checks', 'W3005', '--', join(packaged[stage]!.dir, 'cloudformation-template-update-stack.json')],
      { encoding: 'utf8' },
    );
    expect(result.error).toBeUndefined();
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });

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
    const table = t().Resources.StateTable!;
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  test('data stores follow the stage removal policy', () => {
    const expected = config.deploy.retainData ? 'Retain' : 'Delete';
    for (const id of ['RawBucket', 'CuratedBucket', 'StateTable'])
      expect([id, t().Resources[id]?.DeletionPolicy]).toEqual([id, expected]);
  });

  test('the failure topic is KMS-encrypted and subscribes the stage alarm e-mail when set', () => {
    const topic = t().Resources.FailureTopic!;
    expect(topic.Properties.KmsMasterKeyId).toEqual({ Ref: 'SluiceKey' });
    expect(topic.Properties.Subscription ?? []).toEqual(
      config.deploy.alarmEmail ? [{ Protocol: 'email', Endpoint: config.deploy.alarmEmail }] : [],
    );
  });

  test('the dead-letter queue is encrypted and alarms as soon as it holds a message', () => {
    expect(t().Resources.DeadLetterQueue?.Properties.SqsManagedSseEnabled).toBe(true);
    expect(t().Resources.DeadLetterAlarm?.Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: 'FailureTopic' }],
    });
    for (const [id, rule] of of(t(), 'AWS::Events::Rule'))
      for (const target of rule.Properties.Targets)
        expect([id, target.DeadLetterConfig]).toEqual([id, { Arn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] } }]);
    const onArrivalConfig = of(t(), 'AWS::Lambda::EventInvokeConfig')[0]?.[1];
    expect(onArrivalConfig?.Properties.DestinationConfig.OnFailure.Destination).toEqual({
      'Fn::GetAtt': ['DeadLetterQueue', 'Arn'],
    });
  });

  test('every Lambda is nodejs22.x on arm64, traced, with its own role and a log group with the stage retention', () => {
    const functions = of(t(), 'AWS::Lambda::Function').filter(([id]) => id !== 'GlueScriptUploader');
    expect(functions.map(([id]) => id).sort()).toEqual(
      [...Object.keys(STEP_FILES), 'onArrival', 'onExecutionStatusChange', 'replayDeadLetters', 'scheduleCatchUp']
        .map(functionLogicalId)
        .sort(),
    );
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
    for (const [id, role] of of(t(), 'AWS::IAM::Role'))
      for (const policy of role.Properties.Policies ?? [])
        for (const s of policy.PolicyDocument.Statement) {
          for (const action of asArray(s.Action as string | string[]))
            expect([id, action]).not.toEqual([id, expect.stringMatching(/(^\*$|:\*$)/)]);
          if (asArray(s.Resource).includes('*'))
            for (const action of asArray(s.Action as string | string[]))
              expect([id, action, WILDCARD_ACTIONS[action] !== undefined]).toEqual([id, action, true]);
        }
  });

  const roleActions = (fn: string): string[] => {
    const role = t().Resources[`${fn.charAt(0).toUpperCase()}${fn.slice(1)}Role`]!;
    return role.Properties.Policies.flatMap((p: { PolicyDocument: { Statement: Array<{ Action: string[] }> } }) =>
      p.PolicyDocument.Statement.flatMap((s) => s.Action),
    )
      .filter((a: string) => !a.startsWith('logs:') && !a.startsWith('xray:'))
      .sort();
  };
  test.each([
    ['prepareRun', ['dynamodb:GetItem', 'dynamodb:UpdateItem']],
    ['startCrawler', ['glue:GetCrawler', 'glue:StartCrawler']],
    ['checkCrawler', ['glue:GetCrawler']],
    ['startJobRun', ['glue:GetJobRuns', 'glue:StartJobRun']],
    ['checkJobRun', ['glue:GetJobRun']],
    ['summarizeJobRuns', []],
    ['checkPartitionRefresh', ['athena:GetQueryExecution']],
    ['notifyFailure', ['kms:Decrypt', 'kms:GenerateDataKey', 'sns:Publish']],
  ])('the %s role holds only what that step calls', (fn, actions) => {
    expect(roleActions(fn)).toEqual(actions);
  });

  test('the start-job step may start only the configured jobs', () => {
    const statements = t().Resources.StartJobRunRole!.Properties.Policies[0].PolicyDocument.Statement as Array<{
      Action: string[];
      Resource: unknown[];
    }>;
    const glue = statements.find((s) => s.Action.includes('glue:StartJobRun'))!;
    expect(glue.Resource.map((r) => JSON.stringify(r))).toEqual(
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
    expect(new Set(targets)).toEqual(new Set(Object.keys(STEP_FILES).map(functionLogicalId)));
    for (const target of targets) expect(t().Resources[target]?.Type).toBe('AWS::Lambda::Function');
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
      expect(table?.Properties.TableInput.PartitionKeys.map((k: { Name: string }) => k.Name)).toEqual(
        d.partitioning.keys.map((k) => k.name),
      );
      expect(table?.Properties.TableInput.StorageDescriptor.Columns).toEqual(
        d.mapping.map((m) => ({ Name: m.target, Type: m.type })),
      );
      const rule = of(t(), 'AWS::Events::Rule').find(([, r]) =>
        JSON.stringify(r.Properties.EventPattern ?? {}).includes(`"prefix":"${d.raw.prefix}"`),
      );
      expect(rule?.[1].Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': ['OnArrivalLambdaFunction', 'Arn'] });
    }
  });

  test('rejected arrivals are counted by a metric filter on the intake log group', () => {
    expect(t().Resources.RejectedArrivalsMetricFilter?.Properties).toMatchObject({
      LogGroupName: `/aws/lambda/sluice-${stage}-onArrival`,
      FilterPattern: '{ $.metric = "RejectedArrivals" }',
    });
  });

  test('the Athena workgroup enforces its settings and encrypts results', () => {
    expect(t().Resources.AthenaWorkGroup?.Properties.WorkGroupConfiguration).toMatchObject({
      EnforceWorkGroupConfiguration: true,
      ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS' } },
    });
  });

  test('each function package carries its stage config', () => {
    const listing = execFileSync('unzip', ['-l', join(packaged[stage]!.dir, 'onArrival.zip')]).toString();
    expect(listing).toContain(`config/${stage}.json`);
  });
});

test('a bad dataset config fails the package step, naming the field', () => {
  const bad = JSON.parse(readFileSync(join(ROOT, 'config', 'dev.json'), 'utf8'));
  bad.datasets[1].partitioning.keys[0].pattern = 'no-anchors';
  const file = join(mkdtempSync(join(tmpdir(), 'sluice-bad-')), 'dev.json');
  writeFileSync(file, JSON.stringify(bad));
  const run = sls('dev', { SLUICE_CONFIG_FILE: file });
  expect(run.status).not.toBe(0);
  expect(run.output).toContain('/datasets/1/partitioning/keys/0/pattern must match pattern');
}, 240_000);

test('the reference Glue script is valid Python (it can only run on AWS Glue)', () => {
  const script = join(ROOT, 'adapters', 'aws', 'glue', 'convert_partition.py');
  expect(existsSync(script)).toBe(true);
  const check = spawnSync('python3', ['-c', 'import ast,sys; ast.parse(open(sys.argv[1]).read())', script], {
    encoding: 'utf8',
  });
  expect(check.stderr).toBe('');
  expect(check.status).toBe(0);
});
