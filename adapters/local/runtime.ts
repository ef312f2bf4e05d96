/**
 * The local runtime: the real ASL and the real step code over local stand-ins (files, DuckDB), with the
 * same intake and debounce code that runs behind EventBridge.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfigFile, type ResolvedConfig } from '../../domain/config';
import { acceptObjectCreated, type IntakeOutcome } from '../../domain/intake';
import type { Clock, Deps, ExecutionStarter } from '../../domain/ports';
import type { ExecutionInput } from '../../schemas/types.generated';
import { asLog } from '../lambda/step';
import { MemoryArrivalLedger, MemoryRunLeases } from '../memory/state';
import { LocalEngine } from './duckdb';
import { appendRunHistory } from './history';
import { LocalCrawlers, LocalJobs } from './glue';
import { LocalNotifier, LocalQueries } from './athena';
import { LocalLake } from './lake';
import { LocalObjects } from './objects';
import { runStateMachine, type LocalEvent, type LocalRunResult } from './state-machine';

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

export interface FinishedRun {
  executionArn: string;
  input: ExecutionInput;
  result: LocalRunResult;
  seconds: number;
}

export class LocalRuntime implements ExecutionStarter {
  readonly deps: Deps;
  readonly runs: FinishedRun[] = [];
  readonly intake: IntakeOutcome[] = [];
  private readonly active = new Set<Promise<void>>();
  private readonly logger: Logger;
  private readonly ledger = new MemoryArrivalLedger({ now: () => new Date() });

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
      consoleUrl: (arn) => `file://${join(options.lakeDir, 'notifications.jsonl')}#${arn}`,
    };
  }

  static async open(options: RuntimeOptions): Promise<LocalRuntime> {
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

  /** What EventBridge does with an S3 event: hand it to the intake. */
  async deliver(event: unknown): Promise<IntakeOutcome> {
    const outcome = await acceptObjectCreated(event, this.deps, asLog(this.logger));
    this.intake.push(outcome);
    if (outcome.status === 'rejected')
      this.options.print?.(`  ✗ rejected ${outcome.key ?? '(event)'}: ${outcome.reason}`);
    return outcome;
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

  private async execute(executionArn: string, input: ExecutionInput): Promise<void> {
    const started = Date.now();
    const quietMs = this.options.quietMs ?? 1000;
    const pollMs = this.options.pollMs ?? 50;
    const result = await runStateMachine(input as never, {
      deps: this.deps,
      executionArn,
      waitMs: (state) => localWaitMs(state, quietMs, pollMs),
      retryMs: pollMs,
      logger: this.logger,
      onEvent: (event) => this.options.onEvent?.(executionArn, event),
    });
    this.runs.push({ executionArn, input, result, seconds: (Date.now() - started) / 1000 });
    appendRunHistory(this.options.lakeDir, this.runs[this.runs.length - 1] as FinishedRun); // sluice status/runs/logs
  }

  /** Resolves once no execution is running (follow-up runs included). */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.all([...this.active]);
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
