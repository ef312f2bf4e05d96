/**
 * The local runtime: the real ASL and the real step code over local stand-ins (files, DuckDB), with the
 * same intake and debounce code that runs behind EventBridge.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfigFile, type ResolvedConfig } from '../domain/config';
import type { IntakeOutcome, RecordOutcome } from '../domain/intake';
import type { MetricPoint } from '../domain/metrics';
import type { Clock } from '../domain/common';
import type { Deps } from '../domain/deps';
import type { ExecutionStarter } from '../domain/runs';
import type { ExecutionInput } from '../schemas/types.generated';
import { asLog } from '../adapters/lambda/step';
import { MemoryArrivalLedger, MemoryRunLeases } from '../adapters/memory/state';
import { LedgerArrivalBatches } from '../adapters/local/arrival-batches';
import { LocalArtifactStore } from '../adapters/local/artifact-store';
import { installCompiledValidators } from '../adapters/local/compiled-validators';
import { LocalEngine } from '../adapters/local/duckdb';
import { appendRunHistory, LiveRunFile, type FinishedRun, type RuntimeHandle } from './history';
import { partitionJobStats } from '../adapters/local/job-stats';
import { RejectsIndex } from '../adapters/local/rejects';
import { LocalCrawlers } from '../adapters/local/crawler';
import { LocalJobs } from '../adapters/local/glue';
import { LocalNotifier, LocalQueries } from '../adapters/local/athena';
import { FileDeadLetters, LocalIntakeQueue, type SettledRecord } from '../adapters/local/intake-queue';
import { decodeS3Key, LocalLake } from '../adapters/local/lake';
import { LocalObjects } from '../adapters/local/objects';
import { LocalDrift } from '../adapters/local/schema-drift';
import { runStateMachine, type LocalEvent } from './state-machine';

const DEBOUNCE_WAIT = 'Wait for arrivals to settle';
/** The only poll loop that runs once per partition; the others (crawler, Athena registration) run once per run. */
const PER_PARTITION_WAIT = 'Wait for the job run';
/**
 * A once-per-run poll loop is short to check often: at 10 ms a crawl of 0.3 s costs ~30 cheap Check states on an
 * otherwise idle main thread, and the run notices the end ~40 ms sooner than at 50 ms (twice per run). Job-run
 * polls stay at pollMs: they run P times side by side, and while one waits, queued runs keep DuckDB busy.
 */
const ONCE_PER_RUN_POLL_MS = 10;

/** How long each Wait state of the ASL pauses locally (the ASL's own seconds are for AWS). */
export function localWaitMs(state: string, quietMs: number, pollMs: number): number {
  if (state === DEBOUNCE_WAIT) return quietMs;
  return state === PER_PARTITION_WAIT ? pollMs : Math.min(pollMs, ONCE_PER_RUN_POLL_MS);
}

/** The deployed intake's batch size (deploy: the event source mapping's BatchSize). */
const INTAKE_BATCH_SIZE = 1000;

const relativeToLake = (file: string, lakeDir: string): string =>
  file.startsWith(`${lakeDir}/`) ? `<lake>/${file.slice(lakeDir.length + 1)}` : file;

export const LOCAL_STATE_MACHINE_ARN = 'arn:aws:states:local:000000000000:stateMachine:sluice-local';

export interface RuntimeOptions {
  lakeDir: string;
  configFile: string;
  /** Milliseconds for the debounce Wait state (default 1000). */
  quietMs?: number;
  /** Milliseconds between a job run's polls (default 50); the once-per-run waits poll at most every 10 ms. */
  pollMs?: number;
  /** DuckDB connections, i.e. job runs that convert side by side (default: see LocalEngine.open). */
  connections?: number;
  print?: (line: string) => void;
  onEvent?: (executionArn: string, event: LocalEvent) => void;
  logLevel?: string;
}

export type { FinishedRun };

export class LocalRuntime implements ExecutionStarter, RuntimeHandle {
  readonly deps: Deps;
  readonly runs: FinishedRun[] = [];
  readonly intake: IntakeOutcome[] = [];
  private readonly active = new Set<Promise<void>>();
  private readonly logger: Logger;
  private readonly ledger = new MemoryArrivalLedger({ now: () => new Date() });
  private readonly queue: LocalIntakeQueue;
  /** Execution ARN -> dataset, to tell which record of a batch started a run. */
  private readonly datasetOf = new Map<string, string>();
  /** Which rejects file is current per partition; older ones are removed (issue 25). */
  private readonly rejects: RejectsIndex;

  private constructor(
    readonly config: ResolvedConfig,
    readonly lake: LocalLake,
    readonly engine: LocalEngine,
    readonly jobs: LocalJobs,
    readonly queries: LocalQueries,
    readonly notifier: LocalNotifier,
    private readonly options: RuntimeOptions,
  ) {
    const clock: Clock = { now: () => new Date() };
    this.rejects = new RejectsIndex(lake, config);
    this.logger = new Logger({ serviceName: 'sluice-local', logLevel: (options.logLevel ?? 'WARN') as 'WARN' });
    this.deps = {
      config,
      clock,
      crawlers: new LocalCrawlers(config, lake, engine, clock),
      jobs,
      queries,
      notifier,
      arrivals: this.ledger,
      leases: new MemoryRunLeases(),
      executions: this,
      objects: new LocalObjects(lake),
      // Issue 12: run artifacts (partition lists, ResultWriter output) in the AWS layout, under the lake.
      artifacts: new LocalArtifactStore(options.lakeDir, `${config.stage}-artifacts`),
      // Issue 15: what the cores record (the rows of each job run) goes to that run's history entry.
      metrics: { record: (points, executionArn) => this.metricsOf(executionArn).push(...points) },
      // Issue 24: schemas by ranged reads of the lake's files, the local crawler's table, fingerprints in a file.
      drift: new LocalDrift(lake, options.lakeDir),
      consoleUrl: (arn) => `file://${join(options.lakeDir, 'notifications.jsonl')}#${arn}`,
    };
    // The same batch handler as the deployed intake Lambda (domain/intake/batch.ts), behind a local queue with its
    // retries, receive limit and dead-letter file. Window 0: what is sent in one turn of the event loop is one batch.
    this.queue = new LocalIntakeQueue(
      {
        ...this.deps,
        batches: new LedgerArrivalBatches(this.ledger),
        poison: new FileDeadLetters(this.deadLetterFile),
      },
      asLog(this.logger),
      { batchSize: INTAKE_BATCH_SIZE, windowMs: 0 },
    );
  }

  /** Metric points the cores recorded for each running execution (deps.metrics). */
  private readonly recorded = new Map<string, MetricPoint[]>();

  private metricsOf(executionArn: string): MetricPoint[] {
    let points = this.recorded.get(executionArn);
    if (!points) this.recorded.set(executionArn, (points = []));
    return points;
  }

  /** Intake records given up (poison, or failed maxReceiveCount times), one JSON object per line. */
  get deadLetterFile(): string {
    return join(this.options.lakeDir, 'intake-dead-letters.jsonl');
  }

  static async open(options: RuntimeOptions): Promise<LocalRuntime> {
    installCompiledValidators(); // issue 14: every schema's validator ready-made, before the config is validated
    const config = loadConfigFile(options.configFile);
    mkdirSync(options.lakeDir, { recursive: true });
    const lake = new LocalLake(options.lakeDir, config.lake.rawBucket, config.lake.curatedBucket);
    const engine = await LocalEngine.open(options.connections);
    const clock: Clock = { now: () => new Date() };
    const jobs = new LocalJobs(config, lake, engine, clock);
    const queries = new LocalQueries(config, lake, engine);
    queries.ensureTargetTables();
    const notifier = new LocalNotifier(lake.notificationsFile, options.print ?? (() => undefined));
    const runtime = new LocalRuntime(config, lake, engine, jobs, queries, notifier, options);
    runtime.loadLedger();
    return runtime;
  }

  /**
   * What EventBridge does with an S3 event: put it on the intake queue. Resolves with the event's outcome once the
   * batch handler has settled it (after its retries, if it failed).
   */
  async deliver(event: unknown): Promise<IntakeOutcome> {
    const outcome = this.intakeOutcomeOf(await this.queue.enqueue(event));
    this.intake.push(outcome);
    if (outcome.status === 'rejected')
      this.options.print?.(`  ✗ rejected ${outcome.key ?? '(event)'}: ${outcome.reason}`);
    return outcome;
  }

  /** A burst: every event queued at once, so they reach the intake in batches, as from the SQS queue. */
  deliverAll(events: readonly unknown[]): Promise<IntakeOutcome[]> {
    return Promise.all(events.map((event) => this.deliver(event)));
  }

  /** The batch record's outcome in the single-event shape the CLI reports. */
  private intakeOutcomeOf({ outcome, batch }: SettledRecord): IntakeOutcome {
    if (outcome.status === 'accepted' || outcome.status === 'duplicate') {
      const { dataset, partitionKey, objectKey } = outcome.event;
      // The batch made at most one start attempt per dataset: its first accepted record is the one that started it.
      const first = batch.records.find((r) => r.status === 'accepted' && r.event.dataset === dataset);
      const started =
        first?.messageId === outcome.messageId
          ? (batch.startedExecutions.find((arn) => this.datasetOf.get(arn) === dataset) ?? null)
          : null;
      return { status: outcome.status, dataset, partition: partitionKey, key: objectKey, startedExecution: started };
    }
    const given = outcome as Extract<RecordOutcome, { reason: string }>;
    // Keys as the user wrote them: a rejected record's key is still in the event's URL encoding (issue 25).
    const rawKey = given.status === 'failed' ? given.event?.objectKey : given.key;
    const key = given.status === 'failed' || rawKey === undefined ? rawKey : decodeS3Key(rawKey);
    const reason =
      given.status === 'poison'
        ? `${given.reason} (kept in ${relativeToLake(this.deadLetterFile, this.options.lakeDir)})`
        : given.reason;
    return { status: 'rejected', reason, ...(key !== undefined ? { key } : {}) };
  }

  executionArnFor(name: string): string {
    return `${LOCAL_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  /**
   * StartExecution: the run goes on in the background, like on AWS, where it begins a moment after the call
   * returns. Here it begins on the next turn of the event loop, so events delivered back to back (a burst whose
   * quiet period has passed) are all recorded before the run's first claim.
   */
  async startExecution(name: string, input: ExecutionInput): Promise<string> {
    const arn = this.executionArnFor(name);
    // StartExecution is idempotent by name, as on AWS: the run protocol re-issues a start-up lease's start.
    if (this.datasetOf.has(arn)) return arn;
    this.datasetOf.set(arn, input.dataset);
    const run = new Promise<void>((begin) => setImmediate(begin))
      .then(() => this.execute(arn, input))
      .finally(() => this.active.delete(run));
    this.active.add(run);
    return arn;
  }

  /** A manual run, as typed into the Step Functions console; resolves when it ends. */
  async runManually(input: ExecutionInput): Promise<FinishedRun> {
    const arn = this.executionArnFor(`manual-${Date.now()}`);
    await this.execute(arn, input);
    return this.runs[this.runs.length - 1] as FinishedRun;
  }

  /** The dataset of an execution this runtime started (progress lines name it whole, issue 25). */
  datasetOfExecution(executionArn: string): string | undefined {
    return this.datasetOf.get(executionArn);
  }

  private async execute(executionArn: string, input: ExecutionInput): Promise<void> {
    const started = Date.now();
    const quietMs = this.options.quietMs ?? 1000;
    const pollMs = this.options.pollMs ?? 50;
    this.datasetOf.set(executionArn, input.dataset);
    // Issue 25: a run in flight is visible to `sluice status` and `sluice runs` in another terminal.
    const live = new LiveRunFile(this.options.lakeDir, executionArn, input.dataset, new Date(started));
    try {
      const result = await runStateMachine(input as never, {
        deps: this.deps,
        executionArn,
        waitMs: (state) => localWaitMs(state, quietMs, pollMs),
        retryMs: pollMs,
        logger: this.logger,
        onEvent: (event) => {
          live.observe(event);
          this.options.onEvent?.(executionArn, event);
        },
      });
      const metrics = this.metricsOf(executionArn);
      this.recorded.delete(executionArn);
      const run: FinishedRun = { executionArn, input, result, seconds: (Date.now() - started) / 1000, metrics };
      this.runs.push(run);
      appendRunHistory(this.options.lakeDir, run); // sluice status/runs/logs
      // Per partition: a batch job run's partitions each supersede their older rejects file (docs/batches.md).
      this.rejects.supersede(partitionJobStats(this.jobs, this.lake));
    } finally {
      live.remove();
    }
  }

  /** Resolves once the intake queue is empty and no execution is running (follow-up runs included). */
  async idle(): Promise<void> {
    while (this.queue.busy || this.active.size > 0) {
      await this.queue.drain();
      await Promise.all([...this.active]);
    }
  }

  private get ledgerFile(): string {
    return join(this.options.lakeDir, 'intake-ledger.json');
  }

  /** Keeps the intake's memory of seen events with the lake, so re-scanning the raw zone adds nothing twice. */
  loadLedger(): void {
    if (existsSync(this.ledgerFile))
      this.ledger.importSeen(JSON.parse(readFileSync(this.ledgerFile, 'utf8')) as string[]);
  }

  close(): void {
    writeFileSync(this.ledgerFile, JSON.stringify(this.ledger.exportSeen()));
    this.engine.close();
  }
}
