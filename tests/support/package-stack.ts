/**
 * The packaged artifact, as `sls package` makes it, for tests: each stage is packaged offline once per set of
 * inputs (a lock plus a cache folder keyed by a hash of the files that go into the package), so several test files
 * in one jest run, or in the next run with unchanged sources, share one package. What it gives back:
 * - the package folder and the parsed CloudFormation template;
 * - the state machine definition from the template, its function references bound to the packaged functions;
 * - Lambda execution environments that load each handler from its own zip (the minified bundle, not the source),
 *   one invocation at a time per environment, with the function's environment from the template, and that time
 *   out the way Lambda does.
 */
import { execFileSync, fork, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Definition, DefinitionSource, TaskInvoker } from '../../runtime/state-machine';
import { STEPS, type StepId } from '../../functions';

const ROOT = join(__dirname, '..', '..');
const SLS = join(ROOT, 'node_modules', '.bin', 'sls');
const HOST = join(__dirname, 'lambda-host.cjs');
export const ACCOUNT_ID = '123456789012';
/**
 * The alarm address the test packages carry (stage-checks.ts: SLUICE_ALARM_EMAIL, required for a stage that keeps
 * data). A .internal address: not a reserved example name, and no mail leaves a test package anyway.
 */
export const PACKAGE_ALARM_EMAIL = 'data-oncall@sluice.internal';
const TEMPLATE_FILE = 'cloudformation-template-update-stack.json';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON is untyped; readers narrow what they use
type Cfn = any;
export interface Resource {
  Type: string;
  Properties: Cfn;
  DeletionPolicy?: string;
  DependsOn?: string | string[];
}
export interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, Cfn>;
}

export interface PackagedFunction {
  /** The function's key in serverless.yml (for steps, the StepId). */
  key: string;
  logicalId: string;
  functionName: string;
  arn: string;
  zip: string;
  handler: string;
  timeoutSeconds: number;
  memoryMb: number;
  environment: Record<string, Cfn>;
}

export interface PackagedStack {
  stage: string;
  dir: string;
  template: Template;
  region: string;
  functions: Record<string, PackagedFunction>;
  /** A CloudFormation value resolved as a deployed stack would see it (Ref, Fn::GetAtt, Fn::Sub, Fn::Join). */
  resolve(value: Cfn, endpoints?: { sqs?: string }): string;
  /** The state machine from the template, with its Fn::Sub substitutions bound to the packaged functions. */
  definitionSource(): DefinitionSource;
}

// ---------------------------------------------------------------------------------------------------------------
// Packaging, once per stage and input hash

function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', SLS_TELEMETRY_DISABLED: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_')) delete env[key];
  delete env.SLUICE_CONFIG_FILE; // serverless-stack.js would package that file instead of config/<stage>.json
  env.SLUICE_ALARM_EMAIL = PACKAGE_ALARM_EMAIL;
  return env;
}

/** What goes into a package: the function sources, config, ASL, schemas, the deploy code and the dependency lock. */
const PACKAGE_INPUTS = [
  'functions/',
  'domain/',
  'adapters/',
  'schemas/',
  'state-machines/',
  'config/',
  'serverless.yml',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
];

/** Hash of every file that can change the package (tracked or new, not ignored). */
export function packageInputsHash(stage: string): string {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '--', ...PACKAGE_INPUTS], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean)
    .sort();
  const hash = createHash('sha256').update(`stage=${stage}\nalarm=${PACKAGE_ALARM_EMAIL}\n`);
  for (const file of files) {
    const path = join(ROOT, file);
    if (!existsSync(path) || !statSync(path).isFile()) continue;
    hash.update(`${file}\n`).update(readFileSync(path)).update('\n');
  }
  return hash.digest('hex').slice(0, 20);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LOCK_STALE_MS = 10 * 60_000;

function runSlsPackage(stage: string, outDir: string): void {
  const workDir = `.esbuild-artifact-${process.pid}-${randomUUID().slice(0, 8)}`;
  try {
    const result = spawnSync(SLS, ['package', '--stage', stage, '--package', outDir], {
      cwd: ROOT,
      env: { ...offlineEnv(), SLUICE_ESBUILD_WORK_DIR: workDir },
      encoding: 'utf8',
      timeout: 300_000,
    });
    const zips = existsSync(outDir) ? readdirSync(outDir).filter((f) => f.endsWith('.zip')) : [];
    if (result.status !== 0 || zips.length === 0)
      throw new Error(
        `sls package --stage ${stage} failed (status ${result.status}, ${zips.length} zips):\n${result.stdout}\n${result.stderr}`,
      );
  } finally {
    rmSync(join(ROOT, workDir), { recursive: true, force: true });
  }
}

/** A lock whose holder died (a killed test run), or that is older than any packaging takes. */
function lockIsStale(lock: string): boolean {
  const since = statSync(lock, { throwIfNoEntry: false });
  if (!since) return false;
  if (Date.now() - since.mtimeMs > LOCK_STALE_MS) return true;
  const pidFile = join(lock, 'pid');
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
  if (!Number.isInteger(pid)) return Date.now() - since.mtimeMs > 5_000; // between mkdir and writing the pid
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Packages the stage, or waits for the test file that is packaging it, or reuses an earlier package. */
export async function packageStage(stage: string): Promise<PackagedStack> {
  const root = join(tmpdir(), 'sluice-packages');
  mkdirSync(root, { recursive: true });
  const dir = join(root, `${stage}-${packageInputsHash(stage)}`);
  const complete = join(dir, '.complete');
  // One lock for every stage: osls stages each package in <repo>/.serverless before moving it to --package, so two
  // packages at once in one checkout collide whatever their stage (node_modules/osls/lib/plugins/aws/common/lib/artifacts.js).
  const lock = join(root, 'packaging.lock');
  for (;;) {
    if (existsSync(complete)) return openPackage(stage, dir);
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
    } catch {
      if (lockIsStale(lock)) rmSync(lock, { recursive: true, force: true });
      await sleep(500);
      continue;
    }
    try {
      if (!existsSync(complete)) {
        const staging = mkdtempSync(`${dir}.staging-`);
        runSlsPackage(stage, staging);
        writeFileSync(join(staging, '.complete'), new Date().toISOString());
        rmSync(dir, { recursive: true, force: true });
        renameSync(staging, dir);
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the package

export function openPackage(stage: string, dir: string): PackagedStack {
  const template = JSON.parse(readFileSync(join(dir, TEMPLATE_FILE), 'utf8')) as Template;
  const region = regionOf(dir);
  const functions: Record<string, PackagedFunction> = {};
  for (const [logicalId, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function' || !r.Properties.Code?.S3Key) continue;
    const key = String(r.Properties.Code.S3Key)
      .split('/')
      .pop()!
      .replace(/\.zip$/, '');
    const functionName = String(r.Properties.FunctionName);
    functions[key] = {
      key,
      logicalId,
      functionName,
      arn: `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${functionName}`,
      zip: join(dir, `${key}.zip`),
      handler: String(r.Properties.Handler),
      timeoutSeconds: Number(r.Properties.Timeout ?? 3),
      memoryMb: Number(r.Properties.MemorySize ?? 128),
      environment: r.Properties.Environment?.Variables ?? {},
    };
  }
  const stack: PackagedStack = {
    stage,
    dir,
    template,
    region,
    functions,
    resolve: (value, endpoints = {}) => resolveValue(template, region, functions, value, endpoints),
    definitionSource: () => definitionSourceOf(template, region, functions),
  };
  return stack;
}

/** The region `sls package` resolved for the stage (from the stage config), as it recorded it. */
function regionOf(dir: string): string {
  const state = JSON.parse(readFileSync(join(dir, 'serverless-state.json'), 'utf8')) as {
    service?: { provider?: { region?: string } };
  };
  const region = state.service?.provider?.region;
  if (!region) throw new Error(`${dir}/serverless-state.json records no provider region`);
  return region;
}

function arnOf(
  template: Template,
  region: string,
  functions: Record<string, PackagedFunction>,
  logicalId: string,
): string {
  const r = template.Resources[logicalId];
  if (!r) throw new Error(`template has no resource ${logicalId}`);
  const p = r.Properties ?? {};
  switch (r.Type) {
    case 'AWS::Lambda::Function':
      return (
        Object.values(functions).find((f) => f.logicalId === logicalId)?.arn ??
        `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${p.FunctionName ?? logicalId}`
      );
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${region}:${ACCOUNT_ID}:${p.QueueName ?? logicalId}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${region}:${ACCOUNT_ID}:${p.TopicName ?? logicalId}`;
    case 'AWS::DynamoDB::Table':
      return `arn:aws:dynamodb:${region}:${ACCOUNT_ID}:table/${p.TableName ?? logicalId}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${region}:${ACCOUNT_ID}:stateMachine:${p.StateMachineName ?? logicalId}`;
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${p.BucketName ?? logicalId.toLowerCase()}`;
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${ACCOUNT_ID}:role/${p.RoleName ?? logicalId}`;
    default:
      return `arn:aws:cloudformation:${region}:${ACCOUNT_ID}:${r.Type}/${logicalId}`;
  }
}

function refOf(
  template: Template,
  region: string,
  functions: Record<string, PackagedFunction>,
  name: string,
  sqs: string,
) {
  const pseudo: Record<string, string> = {
    'AWS::Region': region,
    'AWS::AccountId': ACCOUNT_ID,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'sluice-artifact',
  };
  if (name in pseudo) return pseudo[name]!;
  const r = template.Resources[name];
  if (!r) throw new Error(`template has no resource ${name} to Ref`);
  const p = r.Properties ?? {};
  switch (r.Type) {
    case 'AWS::DynamoDB::Table':
      return String(p.TableName ?? name);
    case 'AWS::SQS::Queue':
      return `${sqs}/${ACCOUNT_ID}/${p.QueueName ?? name}`;
    case 'AWS::S3::Bucket':
      // Named buckets may be an Fn::Sub of the account and region (the artifacts bucket).
      return p.BucketName === undefined
        ? name.toLowerCase()
        : resolveValue(template, region, functions, p.BucketName, { sqs });
    case 'AWS::Lambda::Function':
      return String(p.FunctionName ?? name);
    default:
      return arnOf(template, region, functions, name);
  }
}

function resolveValue(
  template: Template,
  region: string,
  functions: Record<string, PackagedFunction>,
  value: Cfn,
  endpoints: { sqs?: string },
): string {
  const sqs = endpoints.sqs ?? `https://sqs.${region}.amazonaws.com`;
  const again = (v: Cfn) => resolveValue(template, region, functions, v, endpoints);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value?.Ref) return refOf(template, region, functions, value.Ref, sqs);
  if (value?.['Fn::GetAtt']) {
    const [id, attribute] = value['Fn::GetAtt'] as [string, string];
    if (attribute !== 'Arn') throw new Error(`Fn::GetAtt ${id}.${attribute} is not resolved by the test harness`);
    return arnOf(template, region, functions, id);
  }
  if (value?.['Fn::Join']) {
    const [separator, parts] = value['Fn::Join'] as [string, Cfn[]];
    return parts.map(again).join(separator);
  }
  if (value?.['Fn::Sub'] !== undefined) {
    const [text, vars] = (Array.isArray(value['Fn::Sub']) ? value['Fn::Sub'] : [value['Fn::Sub'], {}]) as [
      string,
      Record<string, Cfn>,
    ];
    return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
      if (name in vars) return again(vars[name]);
      if (name.endsWith('.Arn')) return arnOf(template, region, functions, name.slice(0, -4));
      return refOf(template, region, functions, name, sqs);
    });
  }
  throw new Error(`cannot resolve CloudFormation value ${JSON.stringify(value)}`);
}

function definitionSourceOf(
  template: Template,
  region: string,
  functions: Record<string, PackagedFunction>,
): DefinitionSource {
  const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine in the template, found ${machines.length}`);
  const p = machines[0]!.Properties;
  const definitionString = p.DefinitionString ?? JSON.stringify(p.Definition);
  const text = resolveValue(template, region, functions, definitionString, {});
  // DefinitionSubstitutions, if serverless-step-functions ever moves to them, bind ${name} the same way.
  const substitutions: Record<string, Cfn> = p.DefinitionSubstitutions ?? {};
  const bound = text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) =>
    name in substitutions ? resolveValue(template, region, functions, substitutions[name], {}) : whole,
  );
  const definition = JSON.parse(bound) as Definition;
  const keyByArn = new Map(Object.values(functions).map((f) => [f.arn, f.key]));
  return {
    definition,
    stepOf(resource) {
      const key = keyByArn.get(resource);
      if (!key || !(key in STEPS)) throw new Error(`Task resource ${resource} is no packaged step function`);
      return key as StepId;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Lambda execution environments

/** What Step Functions reports for a failed Lambda Task: Error is the errorType, Cause the error payload (JSON). */
export class LambdaTaskError extends Error {
  override readonly name: string;
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

interface Container {
  child: ChildProcess;
  ready: Promise<void>;
  output: string[];
  busy: boolean;
}

export interface LambdaOptions {
  /** Environment every function gets besides its own from the template (endpoints, fake credentials, region). */
  env: Record<string, string>;
  /** Milliseconds before an invocation times out (default: the function's Timeout from the template). */
  timeoutMs?: (fn: PackagedFunction) => number;
  /** Endpoint for queue URLs the template Refs. */
  sqsEndpoint?: string;
}

export class PackagedLambdas {
  private readonly idle = new Map<string, Container[]>();
  private readonly all = new Set<Container>();
  private readonly roots = new Map<string, string>();
  private readonly scratch = mkdtempSync(join(tmpdir(), 'sluice-lambda-'));
  private sequence = 0;
  /** Invocations per function key, in order (event as sent). */
  readonly invocations: Array<{ key: string; event: unknown }> = [];

  constructor(
    private readonly stack: PackagedStack,
    private readonly options: LambdaOptions,
  ) {}

  /** The function's package, unzipped once (LAMBDA_TASK_ROOT). */
  taskRoot(key: string): string {
    const fn = this.fn(key);
    let root = this.roots.get(key);
    if (!root) {
      root = join(this.scratch, key);
      mkdirSync(root, { recursive: true });
      execFileSync('unzip', ['-q', '-o', fn.zip, '-d', root]);
      this.roots.set(key, root);
    }
    return root;
  }

  private fn(key: string): PackagedFunction {
    const fn = this.stack.functions[key];
    if (!fn) throw new Error(`the package has no function ${key}`);
    return fn;
  }

  private environment(fn: PackagedFunction, root: string): Record<string, string> {
    const own = Object.fromEntries(
      Object.entries(fn.environment).map(([k, v]) => [k, this.stack.resolve(v, { sqs: this.options.sqsEndpoint })]),
    );
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TZ: 'UTC',
      LANG: 'en_US.UTF-8',
      LAMBDA_TASK_ROOT: root,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      SLUICE_TEST_FUNCTION_ARN: fn.arn,
      ...own,
      ...this.options.env,
    };
  }

  private start(key: string): Container {
    const fn = this.fn(key);
    const root = this.taskRoot(key);
    const child = fork(HOST, [root, fn.handler], {
      cwd: root,
      env: this.environment(fn, root),
      execArgv: [],
      silent: true,
      serialization: 'json',
    });
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString('utf8'));
      if (output.length > 50) output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const ready = new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`Lambda host for ${key} exited (${code}): ${output.join('')}`)));
    });
    ready.catch(() => {});
    const container: Container = { child, ready, output, busy: false };
    this.all.add(container);
    child.once('exit', () => {
      this.all.delete(container);
      const pool = this.idle.get(key) ?? [];
      const at = pool.indexOf(container);
      if (at >= 0) pool.splice(at, 1);
    });
    return container;
  }

  /** Invokes the function as Step Functions' Lambda integration would; rejects with a LambdaTaskError. */
  async invoke(key: string, event: unknown): Promise<unknown> {
    const fn = this.fn(key);
    this.invocations.push({ key, event });
    const pool = this.idle.get(key) ?? [];
    this.idle.set(key, pool);
    const container = pool.pop() ?? this.start(key);
    container.busy = true;
    await container.ready;
    const timeoutMs = this.options.timeoutMs?.(fn) ?? fn.timeoutSeconds * 1000;
    const id = `req-${++this.sequence}`;
    const outcome = await new Promise<
      | { ok: true; result: unknown }
      | { ok: false; error: { errorType: string; errorMessage: string; trace: string[] } }
      | { timeout: true }
      | { exit: number | null }
    >((resolve) => {
      const timer = setTimeout(() => resolve({ timeout: true }), timeoutMs);
      const onMessage = (m: { id?: string }) => {
        if (m.id !== id) return;
        cleanup();
        resolve(m as never);
      };
      const onExit = (code: number | null) => {
        cleanup();
        resolve({ exit: code });
      };
      const cleanup = () => {
        clearTimeout(timer);
        container.child.off('message', onMessage);
        container.child.off('exit', onExit);
      };
      container.child.on('message', onMessage);
      container.child.once('exit', onExit);
      container.child.send({ id, event, deadline: Date.now() + timeoutMs });
    });
    container.busy = false;
    if ('ok' in outcome) {
      pool.push(container);
      if (outcome.ok) return outcome.result;
      throw new LambdaTaskError(outcome.error.errorType, JSON.stringify(outcome.error));
    }
    // A timed-out or crashed environment is not reused (Lambda starts a fresh one for the next invocation).
    container.child.kill('SIGKILL');
    // Step Functions: "Unhandled errors in Lambda are reported as Lambda.Unknown ... These include out-of-memory
    // errors and function timeouts." https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
    const payload =
      'timeout' in outcome
        ? {
            errorMessage: `${new Date().toISOString()} ${id} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
          }
        : {
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: ${id} Error: Runtime exited with error: exit status ${outcome.exit}`,
          };
    throw new LambdaTaskError(
      'Lambda.Unknown',
      `The cause could not be determined because Lambda did not return an error type. Returned payload: ${JSON.stringify(payload)}`,
    );
  }

  /** A Task invoker for runStateMachine: each Task calls the packaged function its Resource ARN names. */
  invoker(): TaskInvoker {
    return (target, input) => this.invoke(target.stepId, input);
  }

  /** The handler of one function, loaded from its zip, as a plain async function. */
  handler(key: string): (event: unknown) => Promise<unknown> {
    return (event) => this.invoke(key, event);
  }

  async stop(): Promise<void> {
    const exits = [...this.all].map(
      (c) =>
        new Promise<void>((resolve) =>
          c.child.exitCode !== null || c.child.signalCode !== null
            ? resolve()
            : (c.child.once('exit', () => resolve()), c.child.kill('SIGKILL')),
        ),
    );
    await Promise.all(exits);
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
