/**
 * Rules over the packaged CloudFormation template, one per class of defect that CloudFormation or the services
 * would only reveal on a real deploy. Each returns the violations it finds (empty = the rule holds), so a test
 * can show them, and the same rules can be run against any template (e.g. an older package).
 */
import { NAME_LIMITS, type NameKind } from '../../domain/config';
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

function nameText(value: Json): string | undefined {
  if (typeof value === 'string') return value;
  const text: unknown = value?.['Fn::Sub'];
  if (typeof text === 'string') return text.replace(/\$\{([^}]+)\}/g, (_m, p: string) => PSEUDO[p] ?? `\${${p}}`);
  return undefined; // Ref/GetAtt of another resource: its own name is checked where it is defined.
}

export function nameRules(t: Template): string[] {
  const problems: string[] = [];
  const check = (id: string, property: string, value: Json, kind: NameKind) => {
    const text = nameText(value);
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
      for (const operator of Object.values(s.Condition ?? {}) as Json[])
        for (const prefix of asArray(operator?.['s3:prefix']) as string[])
          if (prefix.includes('{') || !/(\/|\/\*)$/.test(prefix))
            problems.push(`${id}: s3:prefix '${prefix}' is not a folder`);
    }
  return problems;
}
