/**
 * Rules over the packaged CloudFormation template, one per class of defect that CloudFormation or the services
 * would only reveal on a real deploy. Each returns the violations it finds (empty = the rule holds), so a test
 * can show them, and the same rules can be run against any template (e.g. an older package).
 */
import { NAME_LIMITS, type NameKind } from '../../domain/config/config';
import { asArray, of, roleStatements, target, type Json, type Template } from './template';

// ---------- Mutually exclusive properties ----------
/**
 * Property pairs CloudFormation rejects together. MetricTransformation: "dimensions and default value are
 * mutually exclusive" (see DefaultValue/Dimensions in
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-logs-metricfilter-metrictransformation.html).
 * Lambda Code: ZipFile is for inline code, S3Bucket/S3Key for a package; only one source.
 */
const EXCLUSIVE: Array<{ type: string; objects: (p: Json) => Json[]; keys: [string, string] }> = [
  {
    type: 'AWS::Logs::MetricFilter',
    objects: (p) => asArray(p.MetricTransformations),
    keys: ['DefaultValue', 'Dimensions'],
  },
  { type: 'AWS::Lambda::Function', objects: (p) => asArray(p.Code), keys: ['ZipFile', 'S3Bucket'] },
];

export function mutuallyExclusiveProperties(t: Template): string[] {
  return EXCLUSIVE.flatMap(({ type, objects, keys: [a, b] }) =>
    of(t, type).flatMap(([id, r]) =>
      objects(r.Properties)
        .filter((o) => o && o[a] !== undefined && o[b] !== undefined)
        .map(() => `${id}: ${a} and ${b} are mutually exclusive`),
    ),
  );
}

// ---------- Custom resources ----------
export const MAX_SERVICE_TIMEOUT = 300;
export const isCustomResource = (type: string) =>
  type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';

/** Each custom resource: a ServiceTimeout of at most 300 s, a Lambda that times out before it, and inline code. */
export function customResourceRules(t: Template): string[] {
  const problems: string[] = [];
  for (const [id, r] of Object.entries(t.Resources).filter(([, r]) => isCustomResource(r.Type))) {
    const timeout = r.Properties.ServiceTimeout;
    if (typeof timeout !== 'number' || timeout > MAX_SERVICE_TIMEOUT)
      problems.push(`${id}: ServiceTimeout ${timeout ?? '(default 3600)'} is not at most ${MAX_SERVICE_TIMEOUT}`);
    const fnId = target(r.Properties.ServiceToken);
    const fn = fnId ? t.Resources[fnId] : undefined;
    if (!fn || fn.Type !== 'AWS::Lambda::Function') {
      problems.push(`${id}: ServiceToken is not a Lambda function of this template`);
      continue;
    }
    if (typeof timeout === 'number' && !(fn.Properties.Timeout < timeout))
      problems.push(`${id}: its function's Timeout ${fn.Properties.Timeout} is not below ServiceTimeout ${timeout}`);
    const code: unknown = fn.Properties.Code?.ZipFile;
    if (typeof code !== 'string') problems.push(`${id}: its function has no inline code to check`);
    // CloudFormation provides cfnresponse only for the exact statement `import cfnresponse`:
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-lambda-function-code-cfnresponsemodule.html
    else if (/^\s*import\s+.*,\s*cfnresponse|^\s*import\s+cfnresponse\s*,/m.test(code))
      problems.push(`${id}: imports cfnresponse together with other modules, so the module is not provided`);
  }
  return problems;
}

export const customResourceCode = (t: Template): Array<[string, string]> =>
  Object.entries(t.Resources)
    .filter(([, r]) => isCustomResource(r.Type))
    .map(([id, r]) => [id, t.Resources[target(r.Properties.ServiceToken) ?? '']?.Properties.Code?.ZipFile as string]);

// ---------- Asynchronous invocations ----------
/** Principals that invoke Lambda asynchronously. */
const ASYNC_PRINCIPALS = ['events.amazonaws.com', 's3.amazonaws.com', 'sns.amazonaws.com', 'scheduler.amazonaws.com'];

/**
 * Every function an AWS service invokes asynchronously has an SQS on-failure destination (Lambda otherwise drops
 * the event after two retries), the queue has an alarm with an action, and the function's role may send to it.
 */
export function asyncInvocationRules(t: Template): string[] {
  const problems: string[] = [];
  const asyncFunctions = new Set(
    of(t, 'AWS::Lambda::Permission')
      .filter(([, p]) => ASYNC_PRINCIPALS.includes(p.Properties.Principal))
      .map(([, p]) => target(p.Properties.FunctionName) ?? String(p.Properties.FunctionName)),
  );
  for (const fn of asyncFunctions) {
    const config = of(t, 'AWS::Lambda::EventInvokeConfig').find(([, c]) => target(c.Properties.FunctionName) === fn);
    const queue = target(config?.[1].Properties.DestinationConfig?.OnFailure?.Destination);
    if (!queue || t.Resources[queue]?.Type !== 'AWS::SQS::Queue') {
      problems.push(`${fn}: invoked asynchronously but has no SQS on-failure destination`);
      continue;
    }
    const alarmed = of(t, 'AWS::CloudWatch::Alarm').some(
      ([, a]) =>
        asArray(a.Properties.Dimensions).some((d: Json) => d.Name === 'QueueName' && target(d.Value) === queue) &&
        asArray(a.Properties.AlarmActions).length > 0,
    );
    if (!alarmed) problems.push(`${fn}: its on-failure queue ${queue} has no alarm with an action`);
    const roleId = target(t.Resources[fn]?.Properties.Role);
    const maySend = roleStatements(t, roleId ?? '').some(
      (s) =>
        asArray(s.Action).includes('sqs:SendMessage') && asArray(s.Resource).some((r: Json) => target(r) === queue),
    );
    if (!maySend) problems.push(`${fn}: its role may not send to its on-failure queue ${queue}`);
  }
  for (const [id, rule] of of(t, 'AWS::Events::Rule'))
    for (const tgt of asArray(rule.Properties.Targets))
      if (!target(tgt.DeadLetterConfig?.Arn)) problems.push(`${id}: target ${tgt.Id} has no dead-letter queue`);
  return problems;
}

// ---------- Names within AWS limits ----------
/** Name-ish properties and the limit that applies; `Name` depends on the resource type. */
const NAME_PROPERTIES: Record<string, NameKind> = {
  RoleName: 'iamRole',
  FunctionName: 'lambdaFunction',
  QueueName: 'sqsQueue',
  BucketName: 's3Bucket',
  LogGroupName: 'logGroup',
  StateMachineName: 'stateMachine',
  AlarmName: 'alarm',
  TopicName: 'snsTopic',
  TableName: 'dynamoTable',
  AliasName: 'kmsAlias',
  DatabaseName: 'glueName',
  DashboardName: 'alarm',
};
const NAME_BY_TYPE: Record<string, NameKind> = {
  'AWS::Events::Rule': 'eventRule',
  'AWS::Glue::Crawler': 'glueName',
  'AWS::Glue::Job': 'glueName',
  'AWS::Glue::SecurityConfiguration': 'glueName',
  'AWS::Athena::WorkGroup': 'athenaWorkgroup',
};
/** Longest values of the pseudo parameters a name may embed. */
const PSEUDO: Record<string, string> = {
  'AWS::AccountId': '123456789012',
  'AWS::Region': 'ap-southeast-5',
  'AWS::Partition': 'aws-us-gov',
};

/** Longest name of a resource that a name embeds by `${LogicalId}` and whose own name CloudFormation generates. */
const GENERATED_NAME_MAX: Record<string, number> = { 'AWS::IAM::Role': 64 };

function nameText(value: Json, t?: Template): string | undefined {
  if (typeof value === 'string') return value;
  const text: unknown = value?.['Fn::Sub'];
  if (typeof text === 'string')
    return text.replace(/\$\{([^}]+)\}/g, (_m, p: string) => {
      if (PSEUDO[p]) return PSEUDO[p];
      const embedded = t?.Resources[p];
      const max = embedded && GENERATED_NAME_MAX[embedded.Type];
      return max ? 'x'.repeat(max) : `\${${p}}`;
    });
  return undefined; // Ref/GetAtt of another resource: its own name is checked where it is defined.
}

export function nameRules(t: Template): string[] {
  const problems: string[] = [];
  const check = (id: string, property: string, value: Json, kind: NameKind) => {
    const text = nameText(value, t);
    if (text === undefined) return;
    const { min, max, what } = NAME_LIMITS[kind];
    if (/\$\{/.test(text)) problems.push(`${id}.${property}: cannot resolve ${text}`);
    else if (text.length < min || text.length > max)
      problems.push(`${id}.${property}: ${what} '${text}' is ${text.length} characters; AWS allows ${min}-${max}`);
  };
  for (const [id, r] of Object.entries(t.Resources)) {
    for (const [property, value] of Object.entries(r.Properties ?? {})) {
      if (property === 'Name') {
        const kind = NAME_BY_TYPE[r.Type];
        if (kind) check(id, property, value, kind);
        else problems.push(`${id}: ${r.Type}.Name has no known limit; add it to NAME_BY_TYPE`);
      } else if (property.endsWith('Name') && property !== 'MetricName') {
        const kind = NAME_PROPERTIES[property];
        if (kind) check(id, property, value, kind);
        else problems.push(`${id}: ${r.Type}.${property} has no known limit; add it to NAME_PROPERTIES`);
      }
    }
    if (r.Type === 'AWS::IAM::Role')
      for (const p of asArray(r.Properties.Policies)) check(id, 'PolicyName', p.PolicyName, 'iamPolicy');
    if (r.Type === 'AWS::Glue::Database') check(id, 'DatabaseInput.Name', r.Properties.DatabaseInput?.Name, 'glueName');
    if (r.Type === 'AWS::Glue::Table') check(id, 'TableInput.Name', r.Properties.TableInput?.Name, 'glueName');
  }
  return problems;
}

// ---------- Deletion policies ----------
/** A resource with a name of its own (a literal or Fn::Sub name, not a reference to another resource). */
const isNamed = (properties: Json): boolean =>
  Object.entries(properties ?? {}).some(
    ([key, value]) => (key === 'Name' || key.endsWith('Name')) && key !== 'MetricName' && nameText(value) !== undefined,
  );

const DATA_TYPES = ['AWS::S3::Bucket', 'AWS::DynamoDB::Table', 'AWS::KMS::Key'];
const isDataResource = (id: string, type: string) => DATA_TYPES.includes(type) && id !== 'ServerlessDeploymentBucket';

/**
 * Data resources: RetainExceptOnCreate (+ UpdateReplacePolicy Retain) where the stage retains data, so a failed
 * first create leaves nothing behind that would "already exist" on the retry; Delete elsewhere, with every bucket
 * emptied on delete so the removal completes. No resource anywhere keeps a plain Retain.
 */
export function deletionPolicyRules(t: Template, retainData: boolean): string[] {
  const problems: string[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    if (r.DeletionPolicy === 'Retain' && isNamed(r.Properties))
      problems.push(
        `${id}: DeletionPolicy Retain keeps a named resource that a retried create would find "already exists"`,
      );
    if (!isDataResource(id, r.Type)) continue;
    const want = retainData ? ['RetainExceptOnCreate', 'Retain'] : ['Delete', 'Delete'];
    if (r.DeletionPolicy !== want[0] || r.UpdateReplacePolicy !== want[1])
      problems.push(
        `${id}: DeletionPolicy/UpdateReplacePolicy ${r.DeletionPolicy}/${r.UpdateReplacePolicy}, expected ${want.join('/')}`,
      );
  }
  const emptied = new Set(
    Object.values(t.Resources)
      .filter((r) => isCustomResource(r.Type))
      .flatMap((r) => asArray(r.Properties.Buckets).map(target)),
  );
  for (const [id] of of(t, 'AWS::S3::Bucket').filter(([id, r]) => isDataResource(id, r.Type)))
    if (!retainData && !emptied.has(id)) problems.push(`${id}: deleted with the stack but nothing empties it first`);
    else if (retainData && emptied.has(id)) problems.push(`${id}: retained data must not be emptied`);
  return problems;
}

// ---------- S3 scopes of IAM statements ----------
/** Every S3 grant is scoped to whole folders: no `{`, no `key=` fragment, no whole-bucket object access. */
export function s3ScopeRules(t: Template): string[] {
  const problems: string[] = [];
  for (const [id] of of(t, 'AWS::IAM::Role'))
    for (const s of roleStatements(t, id)) {
      const actions = asArray(s.Action);
      if (!actions.some((a) => a.startsWith('s3:'))) continue;
      for (const resource of asArray(s.Resource)) {
        const text = typeof resource === 'string' ? resource : nameText(resource);
        if (!text) continue;
        const objectPart = /:s3:::[^/]+\/(.*)$/.exec(text)?.[1];
        if (objectPart === undefined) continue;
        if (objectPart === '*' && id !== 'BucketEmptierRole')
          problems.push(`${id}: ${actions.join(',')} on every object of a bucket (${text})`);
        if (objectPart.includes('{') || /=\*?$/.test(objectPart))
          problems.push(`${id}: object scope '${objectPart}' is not a folder`);
      }
      // `Null` tests whether s3:prefix is present at all (listBucketRules), its value is no folder.
      for (const [name, operator] of Object.entries(s.Condition ?? {}) as Array<[string, Json]>)
        for (const prefix of name === 'Null' ? [] : (asArray(operator?.['s3:prefix']) as string[]))
          if (prefix.includes('{') || !/(\/|\/\*)$/.test(prefix))
            problems.push(`${id}: s3:prefix '${prefix}' is not a folder`);
    }
  return problems;
}

// ---------- Issue 26: task tokens, multipart uploads, Glue logs, key policy, listings, dead functions, alarms ----------
const TASK_RESPONSES = ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'];

/**
 * SendTaskSuccess/Failure/Heartbeat have no resource type in the Service Authorization Reference, so they are
 * granted on "*" (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html):
 * an ARN-scoped grant may miss the tokens of Distributed Map child executions (their ARNs carry the map run's label).
 * And no Step Functions ARN ends in a wildcard glued to a name (`execution:sluice-dev*` also matches `sluice-dev2`).
 */
export function taskTokenRules(t: Template): string[] {
  const problems: string[] = [];
  for (const [id] of of(t, 'AWS::IAM::Role'))
    for (const s of roleStatements(t, id)) {
      const actions = asArray(s.Action);
      const resources = asArray(s.Resource);
      if (actions.some((a) => TASK_RESPONSES.includes(a)) && !(resources.length === 1 && resources[0] === '*'))
        problems.push(`${id}: ${actions.join(',')} granted on ${JSON.stringify(resources)}, not "*"`);
      for (const r of resources) {
        const text = typeof r === 'string' ? r : nameText(r);
        if (text && /:states:.*:(execution|stateMachine):[^:/*]+\*$/.test(text))
          problems.push(`${id}: ${text} also matches every state machine whose name starts with the same text`);
      }
    }
  return problems;
}

/**
 * Every bucket of the stack (not the framework's deployment bucket) aborts incomplete multipart uploads, whole
 * bucket, within a week: Spark leaves them when an executor dies and S3 bills them until they are aborted
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html).
 */
export function multipartUploadRules(t: Template, maxDays = 7): string[] {
  return of(t, 'AWS::S3::Bucket')
    .filter(([id]) => id !== 'ServerlessDeploymentBucket')
    .filter(
      ([, b]) =>
        !asArray(b.Properties.LifecycleConfiguration?.Rules).some(
          (r: Json) =>
            r.Status === 'Enabled' &&
            r.Prefix === undefined &&
            r.Filter === undefined &&
            r.AbortIncompleteMultipartUpload?.DaysAfterInitiation <= maxDays,
        ),
    )
    .map(([id]) => `${id}: no whole-bucket rule aborts incomplete multipart uploads within ${maxDays} days`);
}

/**
 * Glue's logs stay in the stack: each job and crawler has a security configuration that encrypts CloudWatch logs
 * (so Glue writes to groups named after it, never the account-wide /aws-glue/jobs/output, /error, /logs-v2 or
 * /aws-glue/crawlers), and each of those groups is declared with a retention and the key. Names as Glue forms them
 * with a security configuration: /aws-glue/jobs/<sc>-role/<role>/{output,error}, /aws-glue/jobs/logs-v2-<sc>,
 * /aws-glue/crawlers-role/<role>-<sc> (deploy/glue.ts cites the sources).
 */
export function glueLogGroupRules(t: Template): string[] {
  const problems: string[] = [];
  const groups = new Map(
    of(t, 'AWS::Logs::LogGroup').map(([id, g]) => [
      typeof g.Properties.LogGroupName === 'string'
        ? g.Properties.LogGroupName
        : g.Properties.LogGroupName?.['Fn::Sub'],
      [id, g] as const,
    ]),
  );
  const securityConfigurationName = (value: Json, owner: string): string | undefined => {
    const sc = t.Resources[target(value) ?? ''];
    if (sc?.Type !== 'AWS::Glue::SecurityConfiguration') {
      problems.push(`${owner}: no security configuration of this template, so Glue logs to account-wide groups`);
      return undefined;
    }
    if (sc.Properties.EncryptionConfiguration?.CloudWatchEncryption?.CloudWatchEncryptionMode !== 'SSE-KMS')
      problems.push(`${owner}: its security configuration does not encrypt CloudWatch logs`);
    return sc.Properties.Name;
  };
  const expect = (owner: string, name: string) => {
    const found = groups.get(name);
    if (!found) return problems.push(`${owner}: Glue writes to ${name}, which the stack does not declare`);
    const [id, g] = found;
    if (typeof g.Properties.RetentionInDays !== 'number') problems.push(`${id}: ${name} never expires`);
    if (!g.Properties.KmsKeyId) problems.push(`${id}: ${name} is not encrypted with the stack key`);
  };
  const jobConfigurations = new Set<string>();
  for (const [id, job] of of(t, 'AWS::Glue::Job')) {
    const sc = securityConfigurationName(job.Properties.SecurityConfiguration, id);
    if (!sc) continue;
    jobConfigurations.add(sc);
    const role = target(job.Properties.Role);
    for (const stream of ['output', 'error']) expect(id, `/aws-glue/jobs/${sc}-role/\${${role}}/${stream}`);
  }
  for (const sc of jobConfigurations) expect(`jobs of ${sc}`, `/aws-glue/jobs/logs-v2-${sc}`);
  for (const [id, crawler] of of(t, 'AWS::Glue::Crawler')) {
    const sc = securityConfigurationName(crawler.Properties.CrawlerSecurityConfiguration, id);
    if (sc) expect(id, `/aws-glue/crawlers-role/\${${target(crawler.Properties.Role)}}-${sc}`);
  }
  return problems;
}

/**
 * A key policy statement for an AWS service principal is scoped to this account's resources (confused deputy:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html): aws:SourceAccount or aws:SourceArn, or
 * the encryption context that names this account's resources (CloudWatch Logs:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
 */
export function keyPolicyRules(t: Template): string[] {
  const problems: string[] = [];
  for (const [id, key] of of(t, 'AWS::KMS::Key'))
    for (const s of asArray(key.Properties.KeyPolicy?.Statement) as Json[]) {
      if (s.Effect !== 'Allow' || !s.Principal?.Service) continue;
      const keys = Object.values(s.Condition ?? {}).flatMap((operator) => Object.keys(operator as Json));
      if (!keys.some((k) => /^aws:Source(Account|Arn)$|^kms:EncryptionContext:/.test(k)))
        problems.push(`${id}: ${JSON.stringify(s.Principal.Service)} may use the key for any account's resources`);
    }
  return problems;
}

/**
 * Roles whose ListBucket may be unconditioned: the bucket emptier, and Athena's result location (the workgroup):
 * the registration step, and the status-change handler, which registers a TIMED_OUT run's converted partitions
 * with the same DDL (issue 23).
 */
const WHOLE_BUCKET_LISTERS = ['BucketEmptierRole', 'StartPartitionRefreshRole', 'OnExecutionStatusChangeRole'];

/**
 * s3:ListBucket: listings only inside named folders (StringLike on s3:prefix), never an IfExists operator (which
 * also lets a listing without a prefix, every dataset's keys, through); the grant for requests without s3:prefix
 * (S3's 404 for a missing key) only in a role that reads objects of that bucket, and never in a crawler's.
 */
export function listBucketRules(t: Template): string[] {
  const problems: string[] = [];
  const bucketOf = (r: Json) => (typeof r === 'string' ? r : JSON.stringify(r)).replace(/\/.*$/, '');
  // A crawler lists its folders and reads what it listed: it never asks for a key that may be missing.
  const crawlerRoles = new Set(of(t, 'AWS::Glue::Crawler').map(([, c]) => target(c.Properties.Role)));
  for (const [id] of of(t, 'AWS::IAM::Role')) {
    const statements = roleStatements(t, id);
    const reads = new Set(
      statements
        .filter((s) => asArray(s.Action).includes('s3:GetObject'))
        .flatMap((s) => asArray(s.Resource).map((r) => (typeof r === 'string' ? r : (nameText(r) ?? ''))))
        .map((r) => r.replace(/\/.*$/, '')),
    );
    for (const s of statements.filter((x) => asArray(x.Action).includes('s3:ListBucket'))) {
      const operators = Object.keys(s.Condition ?? {});
      if (operators.length === 0) {
        if (!WHOLE_BUCKET_LISTERS.includes(id)) problems.push(`${id}: s3:ListBucket on whole buckets`);
        continue;
      }
      if (operators.some((o) => o.endsWith('IfExists')))
        problems.push(`${id}: s3:ListBucket with ${operators.join(',')} also allows a listing without a prefix`);
      if (s.Condition?.Null?.['s3:prefix'] === 'true' && crawlerRoles.has(id))
        problems.push(`${id}: a crawler's role may list without a prefix`);
      if (s.Condition?.Null?.['s3:prefix'] === 'true')
        for (const bucket of asArray(s.Resource).map((r) => (typeof r === 'string' ? r : (nameText(r) ?? bucketOf(r)))))
          if (![...reads].some((r) => r === bucket || r.startsWith(`${bucket}`)))
            problems.push(`${id}: may list ${bucket} without a prefix but reads no object there`);
    }
  }
  return problems;
}

/** The text after `Invoked by hand` in a function's Description marks a function nothing else invokes. */
export const HAND_INVOKED = /^Invoked by hand/;

/**
 * Every function is invoked by something in the stack (a Task of the state machine, an event source mapping, an
 * invoke permission, a custom resource), or says in its Description that it is invoked by hand; every metric filter
 * reads the log group of one of those functions.
 */
export function liveFunctionRules(t: Template): string[] {
  const problems: string[] = [];
  const invoked = new Set<string>();
  for (const [, m] of of(t, 'AWS::StepFunctions::StateMachine')) {
    const sub = m.Properties.DefinitionString?.['Fn::Sub'];
    for (const v of Object.values((Array.isArray(sub) ? sub[1] : {}) as Record<string, Json>))
      invoked.add(target(v) ?? '');
  }
  for (const [, m] of of(t, 'AWS::Lambda::EventSourceMapping')) invoked.add(target(m.Properties.FunctionName) ?? '');
  for (const [, p] of of(t, 'AWS::Lambda::Permission')) invoked.add(target(p.Properties.FunctionName) ?? '');
  for (const [, r] of Object.entries(t.Resources).filter(([, r]) => isCustomResource(r.Type)))
    invoked.add(target(r.Properties.ServiceToken) ?? '');
  const live = new Set<string>();
  for (const [id, fn] of of(t, 'AWS::Lambda::Function')) {
    if (invoked.has(id) || HAND_INVOKED.test(fn.Properties.Description ?? ''))
      live.add(String(fn.Properties.FunctionName));
    else problems.push(`${id}: nothing invokes it, and its Description does not say it is invoked by hand`);
  }
  for (const [id, f] of of(t, 'AWS::Logs::MetricFilter')) {
    const fn = /^\/aws\/lambda\/(.+)$/.exec(String(f.Properties.LogGroupName))?.[1];
    if (!fn || !live.has(fn))
      problems.push(`${id}: reads ${f.Properties.LogGroupName}, not the log group of a live function`);
  }
  return problems;
}

/**
 * The failure topic's e-mail subscriptions are real addresses (not example.com and the other names reserved by
 * RFC 2606, which receive no mail), and a stage that keeps its data has at least one.
 */
export function alarmSubscriptionRules(t: Template, retainData: boolean): string[] {
  const problems: string[] = [];
  const endpoints = of(t, 'AWS::SNS::Topic').flatMap(([id, topic]) =>
    asArray(topic.Properties.Subscription)
      .filter((s: Json) => s.Protocol === 'email')
      .map((s: Json) => [id, String(s.Endpoint)] as const),
  );
  for (const [id, endpoint] of endpoints)
    if (/@(.+\.)?(example\.(com|net|org)|example|invalid|test|localhost)$/i.test(endpoint))
      problems.push(`${id}: alarm e-mail ${endpoint} is a placeholder that receives no mail`);
  if (retainData && endpoints.length === 0) problems.push('the stage keeps its data but its alarms e-mail nobody');
  return problems;
}

/** Glue ETL worker types (G.025X is for streaming only): https://docs.aws.amazon.com/glue/latest/dg/worker-types.html */
export const GLUE_ETL_WORKER_TYPES = ['G.1X', 'G.2X', 'G.4X', 'G.8X'];

/**
 * Each Glue job is a Glue 5.0 Spark ETL job (Spark 3.5.4, Python 3.11: the engine the script is tested on,
 * https://docs.aws.amazon.com/glue/latest/dg/release-notes.html) with an ETL worker type, at least 2 workers, and
 * none of the job arguments that Glue 5.0 replaced (continuous logging: every 5.0 job logs in real time,
 * https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging-enable.html).
 */
export function glueJobRules(t: Template): string[] {
  const problems: string[] = [];
  for (const [id, job] of of(t, 'AWS::Glue::Job')) {
    const p = job.Properties;
    if (p.GlueVersion !== '5.0') problems.push(`${id}: GlueVersion ${p.GlueVersion}, not 5.0`);
    if (p.Command?.Name !== 'glueetl' || p.Command?.PythonVersion !== '3')
      problems.push(`${id}: not a Python 3 glueetl job`);
    if (!GLUE_ETL_WORKER_TYPES.includes(p.WorkerType)) problems.push(`${id}: WorkerType ${p.WorkerType}`);
    if (!(p.NumberOfWorkers >= 2)) problems.push(`${id}: NumberOfWorkers ${p.NumberOfWorkers} (Spark jobs need 2)`);
    if (p.MaxCapacity !== undefined) problems.push(`${id}: MaxCapacity set beside WorkerType`);
    for (const argument of Object.keys(p.DefaultArguments ?? {}))
      if (/^--(enable-continuous-cloudwatch-log|enable-continuous-log-filter|continuous-log-)/.test(argument))
        problems.push(`${id}: ${argument} is a Glue 4.0-and-earlier argument`);
  }
  return problems;
}
