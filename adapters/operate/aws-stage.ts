/**
 * A deployed stage, seen from the terminal: the CloudFormation stack `sluice-<stage>` resolved to its state
 * machine, state table and log groups (stack outputs first, then the stack's resources by logical id), and the
 * operate port answered with read-only calls (plus StartExecution for backfill/rerun). AWS SDK v3 clients with the
 * standard credential chain and region; nothing here asks for or handles secrets.
 */
import { DynamoFingerprints } from '../aws/schema-drift';
import { schemaDriftNotes } from '../../domain/steps';
import { CloudFormationClient, DescribeStacksCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GlueClient } from '@aws-sdk/client-glue';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  SFNClient,
  StartExecutionCommand,
  type ExecutionStatus,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ResolvedConfig, executionNameFor } from '../../domain/config';
import type { ExecutionInput } from '../../schemas/types.generated';
import { DynamoArrivalLedger, DynamoRunLeases } from '../aws/dynamo-state';
import {
  OperateError,
  type DatasetStatus,
  type ExecutionProgress,
  type LogLine,
  type MapProgress,
  type RunQuery,
  type RunRecord,
  type RunStatus,
  type StageBackend,
} from './ports';
import { parseRunState, type RunStateView } from './run-state';
import { AwsRunCosts } from './run-cost';

export interface AwsClients {
  cloudformation: CloudFormationClient;
  sfn: SFNClient;
  dynamodb: DynamoDBDocumentClient;
  logs: CloudWatchLogsClient;
  /** For each run's cost (./run-cost.ts); without them, runs show no cost. */
  glue?: GlueClient;
  athena?: AthenaClient;
}

export function defaultClients(region?: string): AwsClients {
  const opts = region ? { region } : {};
  return {
    cloudformation: new CloudFormationClient(opts),
    sfn: new SFNClient(opts),
    dynamodb: DynamoDBDocumentClient.from(new DynamoDBClient(opts)),
    logs: new CloudWatchLogsClient(opts),
    glue: new GlueClient(opts),
    athena: new AthenaClient(opts),
  };
}

export interface StageResources {
  stackName: string;
  stateMachineArn: string;
  tableName: string;
  logGroups: string[];
}

const THROTTLES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  // The DynamoDB state adapter maps throttling (and other transient errors) to this one.
  'AwsThrottledError',
]);

export interface RetryPolicy {
  attempts: number;
  sleep(ms: number): Promise<void>;
}

const defaultRetry: RetryPolicy = { attempts: 6, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

/**
 * The SDK retries throttling itself (standard mode, 3 attempts); a CLI that pages through thousands of executions
 * can still exhaust that, so each call gets a few more attempts with backoff, then a clear message.
 */
async function withRetry<T>(what: string, retry: RetryPolicy, send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (!THROTTLES.has(name)) throw error;
      if (attempt >= retry.attempts)
        throw new OperateError(`${what}: AWS throttled the request ${attempt} times (${name}); try again in a minute`);
      await retry.sleep(Math.min(200 * 2 ** attempt, 5000));
    }
  }
}

/** How many of a dataset's most recent runs `status` searches for the newest queryable arrival. */
const FRESHNESS_LOOKBACK_RUNS = 10;

/** Execution names that sluice gives (domain/runs/protocol.ts executionNameFor): `<dataset>-<trigger>-<17 digits>-<random>`. */
const NAMED = /^(.+)-(arrival|schedule|follow-up|backfill|rerun)-\d{17}-[a-z0-9]+$/;

const iso = (d: Date | undefined): string | undefined => (d ? d.toISOString() : undefined);

export class AwsStage implements StageBackend {
  readonly label: string;
  private readonly datasetByName = new Map<string, string>();
  private readonly inputDataset = new Map<string, string>();
  private readonly costs: AwsRunCosts | undefined;

  private constructor(
    private readonly config: ResolvedConfig,
    private readonly clients: AwsClients,
    private readonly resources: StageResources,
    region: string,
    private readonly retry: RetryPolicy,
  ) {
    this.label = `stage ${config.stage} (stack ${resources.stackName}, ${region})`;
    const { sfn, glue, athena } = clients;
    this.costs = glue && athena ? new AwsRunCosts({ sfn, glue, athena }, config) : undefined;
    for (const d of config.datasets) this.datasetByName.set(d.name.replace(/_/g, '-').slice(0, 40), d.name);
  }

  static async open(
    config: ResolvedConfig,
    clients: AwsClients = defaultClients(config.region),
    retry: RetryPolicy = defaultRetry,
  ): Promise<AwsStage> {
    const region = (await clients.sfn.config.region()) ?? config.region;
    let resources: StageResources;
    try {
      resources = await resolveStack(config.stage, clients.cloudformation, region, retry);
    } catch (error) {
      if ((error as { name?: string }).name === 'CredentialsProviderError')
        throw new OperateError(
          `no AWS credentials to read stage '${config.stage}' (${(error as Error).message}); ` +
            'set AWS_PROFILE, run `aws sso login`, or export credentials, then try again',
        );
      throw error;
    }
    return new AwsStage(config, clients, resources, region, retry);
  }

  private send<T>(what: string, call: () => Promise<T>): Promise<T> {
    return withRetry(what, this.retry, call);
  }

  // ---------- executions ----------

  private async datasetOf(arn: string, name: string): Promise<string> {
    const m = NAMED.exec(name);
    const byName = m?.[1] ? this.datasetByName.get(m[1]) : undefined;
    if (byName) return byName;
    // Started by hand in the console under another name: the input says which dataset.
    if (!this.inputDataset.has(arn)) {
      const d = await this.send('DescribeExecution', () =>
        this.clients.sfn.send(new DescribeExecutionCommand({ executionArn: arn })),
      );
      let dataset = '?';
      try {
        dataset = String((JSON.parse(d.input ?? '{}') as { dataset?: unknown }).dataset ?? '?');
      } catch {
        // unreadable input: shown as '?'
      }
      this.inputDataset.set(arn, dataset);
    }
    return this.inputDataset.get(arn) ?? '?';
  }

  /** Newest first, following nextToken until `want` match or `maxPages` pages have been read. */
  private async listRuns(
    match: (dataset: string) => boolean,
    want: number,
    statusFilter?: ExecutionStatus,
    maxPages = 20,
  ): Promise<Array<{ arn: string; name: string; dataset: string; status: RunStatus; start?: Date; stop?: Date }>> {
    const found: Array<{ arn: string; name: string; dataset: string; status: RunStatus; start?: Date; stop?: Date }> =
      [];
    let nextToken: string | undefined;
    for (let page = 0; page < maxPages && found.length < want; page++) {
      const res = await this.send('ListExecutions', () =>
        this.clients.sfn.send(
          new ListExecutionsCommand({
            stateMachineArn: this.resources.stateMachineArn,
            maxResults: 100,
            nextToken,
            ...(statusFilter ? { statusFilter } : {}),
          }),
        ),
      );
      for (const e of res.executions ?? []) {
        if (!e.executionArn || !e.name) continue;
        const dataset = await this.datasetOf(e.executionArn, e.name);
        if (!match(dataset)) continue;
        found.push({
          arn: e.executionArn,
          name: e.name,
          dataset,
          status: (e.status ?? 'RUNNING') as RunStatus,
          start: e.startDate,
          stop: e.stopDate,
        });
        if (found.length >= want) break;
      }
      nextToken = res.nextToken;
      if (!nextToken) break;
    }
    return found;
  }

  /** The run's own account of itself: the failure notification and the partition summary, from its history. */
  private async runState(executionArn: string): Promise<RunStateView> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    // Newest first: the notification and the summary sit near the end; a few pages cover any run of this machine.
    for (let page = 0; page < 5; page++) {
      const res = await this.send('GetExecutionHistory', () =>
        this.clients.sfn.send(
          new GetExecutionHistoryCommand({
            executionArn,
            reverseOrder: true,
            maxResults: 500,
            includeExecutionData: true,
            nextToken,
          }),
        ),
      );
      events.push(...(res.events ?? []));
      const view = parseRunState(events);
      if (view.notification && view.summary) return view;
      nextToken = res.nextToken;
      if (!nextToken) break;
    }
    return parseRunState(events);
  }

  private async record(e: {
    arn: string;
    name: string;
    dataset: string;
    status: RunStatus;
    start?: Date;
    stop?: Date;
  }): Promise<RunRecord> {
    const run: RunRecord = {
      executionArn: e.arn,
      name: e.name,
      dataset: e.dataset,
      status: e.status,
      startedAt: iso(e.start) ?? '',
      ...(e.stop ? { stoppedAt: iso(e.stop) } : {}),
    };
    const view = await this.runState(e.arn);
    if (view.summary) run.partitions = view.summary;
    if (view.failedPartitions?.length) run.failedPartitions = view.failedPartitions;
    if (view.notification) {
      run.failure = view.notification.failure;
      run.rerunInput = view.notification.rerunInput;
    } else if (e.status === 'FAILED' || e.status === 'TIMED_OUT' || e.status === 'ABORTED') {
      // Died without its failure notification (timed out, aborted, a payload limit): the execution's own error.
      const d = await this.send('DescribeExecution', () =>
        this.clients.sfn.send(new DescribeExecutionCommand({ executionArn: e.arn })),
      );
      run.failure = { step: '(execution)', error: d.error ?? e.status, cause: d.cause ?? '' };
      run.rerunInput = null;
    }
    if (this.costs) run.cost = await this.costs.costOf(e.arn, e.dataset);
    return run;
  }

  async runs(query: RunQuery): Promise<RunRecord[]> {
    const listed = await this.listRuns(
      (d) => !query.dataset || d === query.dataset,
      query.limit,
      query.failedOnly ? 'FAILED' : undefined,
    );
    const out: RunRecord[] = [];
    for (const e of listed) out.push(await this.record(e));
    return out;
  }

  async run(executionArn: string): Promise<RunRecord> {
    let d;
    try {
      d = await this.send('DescribeExecution', () =>
        this.clients.sfn.send(new DescribeExecutionCommand({ executionArn })),
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'ExecutionDoesNotExist')
        throw new OperateError(`no execution ${executionArn} in ${this.label}`);
      throw error;
    }
    const name = d.name ?? executionArn.split(':').pop() ?? executionArn;
    return this.record({
      arn: executionArn,
      name,
      dataset: await this.datasetOf(executionArn, name),
      status: (d.status ?? 'RUNNING') as RunStatus,
      start: d.startDate,
      stop: d.stopDate,
    });
  }

  /** An execution's ARN from its name, as the CLI prints it (`sluice rerun orders-arrival-...`). */
  executionArnFor(nameOrArn: string): string {
    if (nameOrArn.startsWith('arn:')) return nameOrArn;
    return `${this.resources.stateMachineArn.replace(':stateMachine:', ':execution:')}:${nameOrArn}`;
  }

  async start(input: ExecutionInput, kind: 'backfill' | 'rerun'): Promise<string> {
    const name = executionNameFor(input.dataset, new Date(), kind);
    const res = await this.send('StartExecution', () =>
      this.clients.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.resources.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      ),
    );
    return res.executionArn ?? this.executionArnFor(name);
  }

  async progress(executionArn: string): Promise<ExecutionProgress> {
    const d = await this.send('DescribeExecution', () =>
      this.clients.sfn.send(new DescribeExecutionCommand({ executionArn })),
    );
    const mapRunArns: string[] = [];
    let nextToken: string | undefined;
    do {
      const res = await this.send('ListMapRuns', () =>
        this.clients.sfn.send(new ListMapRunsCommand({ executionArn, maxResults: 100, nextToken })),
      );
      for (const m of res.mapRuns ?? []) if (m.mapRunArn) mapRunArns.push(m.mapRunArn);
      nextToken = res.nextToken;
    } while (nextToken);
    let map: MapProgress | null = null;
    for (const mapRunArn of mapRunArns) {
      // MapRunItemCounts: https://docs.aws.amazon.com/step-functions/latest/apireference/API_MapRunItemCounts.html
      const run = await this.send('DescribeMapRun', () =>
        this.clients.sfn.send(new DescribeMapRunCommand({ mapRunArn })),
      );
      const c = run.itemCounts;
      if (!c) continue;
      map ??= { total: 0, succeeded: 0, failed: 0, running: 0, pending: 0 };
      map.total += c.total ?? 0;
      map.succeeded += c.succeeded ?? 0;
      map.failed += (c.failed ?? 0) + (c.timedOut ?? 0) + (c.aborted ?? 0);
      map.running += c.running ?? 0;
      map.pending += c.pending ?? 0;
    }
    return { status: (d.status ?? 'RUNNING') as RunStatus, map };
  }

  // ---------- status ----------

  async status(now: Date): Promise<DatasetStatus[]> {
    const ledger = new DynamoArrivalLedger(this.clients.dynamodb, this.resources.tableName, () => now);
    const leases = new DynamoRunLeases(this.clients.dynamodb, this.resources.tableName);
    const out: DatasetStatus[] = [];
    for (const dataset of this.config.datasets.map((d) => d.name)) {
      const lease = await this.send('DynamoDB GetItem', () => leases.current(dataset));
      const pending = await this.send('DynamoDB Query', () => ledger.pendingSummary(dataset));
      const recent = await this.listRuns((d) => d === dataset, FRESHNESS_LOOKBACK_RUNS);
      const lastRun = recent[0] ? await this.record(recent[0]) : null;
      // Issue 24: the dataset's drifted schema fingerprints (their own items in the state table).
      const drifted = schemaDriftNotes(
        await this.send('DynamoDB Query', () =>
          new DynamoFingerprints(this.clients.dynamodb, this.resources.tableName).list(dataset),
        ),
      );
      out.push({
        dataset,
        lease: lease
          ? { holder: lease.owner, since: await this.startOf(lease.owner), expiresAt: lease.expiresAt }
          : null,
        pending: pending ? { partitions: pending.partitions, oldestArrivalAt: pending.firstArrivalAt } : null,
        lastRun,
        newestQueryableArrivalAt: await this.newestQueryableArrival(recent),
        ...(drifted.length > 0 ? { schemaDrift: drifted } : {}),
      });
    }
    return out;
  }

  /** The lease holder is an execution: it holds the lease since it started. */
  private async startOf(owner: string): Promise<string | undefined> {
    if (!owner.startsWith('arn:')) return undefined;
    try {
      const d = await this.send('DescribeExecution', () =>
        this.clients.sfn.send(new DescribeExecutionCommand({ executionArn: owner })),
      );
      return iso(d.startDate);
    } catch (error) {
      if ((error as { name?: string }).name === 'ExecutionDoesNotExist') return undefined;
      throw error;
    }
  }

  /** From the newest of the recent runs that registered claimed arrivals: the newest of them (see run-state.ts). */
  private async newestQueryableArrival(candidates: Array<{ arn: string; status: RunStatus }>): Promise<string | null> {
    for (const c of candidates) {
      if (c.status === 'RUNNING') continue;
      const view = await this.runState(c.arn);
      if (view.newestQueryableArrivalAt) return view.newestQueryableArrivalAt;
    }
    return null;
  }

  // ---------- logs ----------

  async logs(executionArn: string): Promise<LogLine[]> {
    const run = await this.send('DescribeExecution', () =>
      this.clients.sfn.send(new DescribeExecutionCommand({ executionArn })),
    );
    const from = (run.startDate?.getTime() ?? Date.now()) - 60_000;
    const to = (run.stopDate?.getTime() ?? Date.now()) + 5 * 60_000;
    const lines: Array<LogLine & { order: number }> = [];
    // Every step line carries the execution ARN (adapters/lambda/step.ts logKeys). JSON filter pattern syntax:
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
    const filterPattern = `{ $.executionArn = "${executionArn}" }`;
    for (const logGroupName of this.resources.logGroups) {
      let nextToken: string | undefined;
      do {
        let res;
        try {
          res = await this.send('FilterLogEvents', () =>
            this.clients.logs.send(
              new FilterLogEventsCommand({ logGroupName, filterPattern, startTime: from, endTime: to, nextToken }),
            ),
          );
        } catch (error) {
          if ((error as { name?: string }).name === 'ResourceNotFoundException') break; // never invoked yet
          throw error;
        }
        for (const e of res.events ?? []) {
          let message: LogLine['message'] = e.message ?? '';
          try {
            message = JSON.parse(e.message ?? '') as Record<string, unknown>;
          } catch {
            // a plain text line (Lambda runtime START/END lines do not carry the ARN, so this is rare)
          }
          lines.push({
            timestamp: new Date(e.timestamp ?? 0).toISOString(),
            source: logGroupName.split('/').pop() ?? logGroupName,
            message,
            order: lines.length,
          });
        }
        nextToken = res.nextToken;
      } while (nextToken);
    }
    return lines
      .sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.order - b.order)
      .map(({ order: _order, ...line }) => line);
  }
}

/** The stack's outputs, then its resources by logical id for whatever the outputs do not name. */
export async function resolveStack(
  stage: string,
  cloudformation: CloudFormationClient,
  region: string,
  retry: RetryPolicy = defaultRetry,
): Promise<StageResources> {
  const stackName = `sluice-${stage}`;
  let stack;
  try {
    const res = await withRetry('DescribeStacks', retry, () =>
      cloudformation.send(new DescribeStacksCommand({ StackName: stackName })),
    );
    stack = res.Stacks?.[0];
  } catch (error) {
    const e = error as { name?: string; message?: string };
    // CloudFormation answers an unknown stack with ValidationError "Stack with id X does not exist".
    if (e.name === 'ValidationError' && /does not exist/i.test(e.message ?? '')) stack = undefined;
    else throw error;
  }
  if (!stack || stack.StackStatus === 'DELETE_COMPLETE')
    throw new OperateError(
      `stage '${stage}': the CloudFormation stack '${stackName}' does not exist in ${region} ` +
        `(deploy it with: npx sls deploy --stage ${stage}; or set AWS_REGION/AWS_PROFILE to where it lives)`,
    );
  const outputs = new Map((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  let stateMachineArn = outputs.get('StateMachineArn');
  let tableName = outputs.get('StateTableName');
  let logGroups = outputs.get('StepLogGroupNames')?.split(',').filter(Boolean) ?? [];
  if (!stateMachineArn || !tableName || logGroups.length === 0) {
    const byLogicalId = new Map<string, { type: string; physicalId: string }>();
    let nextToken: string | undefined;
    do {
      const page = await withRetry('ListStackResources', retry, () =>
        cloudformation.send(new ListStackResourcesCommand({ StackName: stackName, NextToken: nextToken })),
      );
      for (const r of page.StackResourceSummaries ?? [])
        if (r.LogicalResourceId && r.PhysicalResourceId)
          byLogicalId.set(r.LogicalResourceId, { type: r.ResourceType ?? '', physicalId: r.PhysicalResourceId });
      nextToken = page.NextToken;
    } while (nextToken);
    stateMachineArn ||= byLogicalId.get('SluiceStateMachine')?.physicalId;
    tableName ||= byLogicalId.get('StateTable')?.physicalId;
    if (logGroups.length === 0)
      logGroups = [...byLogicalId.values()]
        .filter((r) => r.type === 'AWS::Logs::LogGroup' && r.physicalId.startsWith('/aws/lambda/'))
        .map((r) => r.physicalId)
        .sort();
  }
  const missing = [!stateMachineArn && 'state machine (SluiceStateMachine)', !tableName && 'state table (StateTable)']
    .filter(Boolean)
    .join(', ');
  if (missing || !stateMachineArn || !tableName)
    throw new OperateError(`stage '${stage}': the stack '${stackName}' has no ${missing}; is it a sluice stack?`);
  return { stackName, stateMachineArn, tableName, logGroups };
}
