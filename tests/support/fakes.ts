/** Scriptable in-memory ports for unit and state-machine tests. */
import { MemoryArtifactStore } from '../../adapters/memory/artifact-store';
import { parseConfig, type ResolvedConfig } from '../../domain/config/config';
import { ConcurrentRunsExceededError, parseS3Uri, type ArtifactStore } from '../../domain/common';
import type {
  Clock,
  CrawlOutcome,
  CrawlerPort,
  CrawlerStatus,
  JobPort,
  JobRunInfo,
  JobRunStateName,
  NotifierPort,
  QueryPort,
  QueryStateName,
} from '../../domain/common/ports';
import type { Deps } from '../../domain/deps';
import type { ExecutionStarter } from '../../domain/runs';
import type {
  ExecutionInput,
  JobBatch,
  JobBatchResult,
  JobRowCounts,
  JobRowSummary,
  PartitionValues,
} from '../../schemas/types.generated';
import { BATCH_ARGUMENT } from '../../domain/steps';
import { SUMMARY_ARGUMENT } from '../../domain/rows';
import { MemoryArrivalLedger, MemoryRunLeases } from '../../adapters/memory/state';

/** Each reading moves time forward, so debounce and polling loops advance without real waits. */
export class TickingClock implements Clock {
  constructor(
    public current = Date.parse('2024-03-01T10:00:00Z'),
    public stepMs = 5_000,
  ) {}
  now(): Date {
    const now = new Date(this.current);
    this.current += this.stepMs;
    return now;
  }
  advance(seconds: number): void {
    this.current += seconds * 1000;
  }
}

export class FakeCrawlers implements CrawlerPort {
  status: CrawlerStatus = { state: 'READY' };
  starts = 0;
  private pollsLeft = 0;
  private outcome: { status: CrawlOutcome; errorMessage?: string } = { status: 'SUCCEEDED' };
  /** Polls a crawl takes; outcome it ends with. */
  script = { pollsToFinish: 2, outcome: 'SUCCEEDED' as CrawlOutcome, errorMessage: undefined as string | undefined };

  constructor(private readonly clock: Clock) {}

  /** Someone else's crawl that began at `startedAt` is running and ends after `polls` status reads. */
  runningSince(startedAt: string, polls: number): void {
    this.status = { state: 'RUNNING', currentCrawlStartedAt: startedAt };
    this.pollsLeft = polls;
    this.outcome = { status: 'SUCCEEDED' };
  }

  async startCrawler(): Promise<'started' | 'already-running'> {
    if (this.status.state !== 'READY') return 'already-running';
    this.starts += 1;
    this.status = {
      state: 'RUNNING',
      currentCrawlStartedAt: this.clock.now().toISOString(),
      lastCrawl: this.status.lastCrawl,
    };
    this.pollsLeft = this.script.pollsToFinish;
    this.outcome = {
      status: this.script.outcome,
      ...(this.script.errorMessage ? { errorMessage: this.script.errorMessage } : {}),
    };
    return 'started';
  }

  async getCrawlerStatus(): Promise<CrawlerStatus> {
    if (this.status.state === 'RUNNING') {
      if (this.pollsLeft <= 0) {
        this.status = {
          state: 'READY',
          lastCrawl: { startedAt: this.status.currentCrawlStartedAt ?? '', ...this.outcome },
        };
      } else this.pollsLeft -= 1;
    }
    return structuredClone(this.status);
  }
}

export interface JobScript {
  pollsToFinish: number;
  finalState: JobRunStateName;
  errorMessage?: string;
  /** What a SUCCEEDED run reports in its row summary (default 10 in, 10 out, 0 bad); 'none': it writes none. */
  rows?: JobRowCounts | 'none';
  /** A batch run (docs/batches.md): the message of each partition of the batch that fails, undefined when it succeeds. */
  partitionFailure?: (partition: PartitionValues) => string | undefined;
}

export class FakeJobs implements JobPort {
  readonly runs: Array<JobRunInfo & { jobName: string; pollsLeft: number; script: JobScript }> = [];
  /** Decides each run's fate from its arguments (the partition is in --sluice_partition). */
  script: (args: Record<string, string>) => JobScript = () => ({ pollsToFinish: 1, finalState: 'SUCCEEDED' });
  concurrentRunsLimit = Infinity;
  startCalls = 0;
  /**
   * Where a SUCCEEDED run writes its row summary when its arguments ask for one (as the Glue script does); fakeWorld
   * points it at deps.artifacts.
   */
  summaries: () => ArtifactStore | undefined = () => undefined;

  constructor(private readonly clock: Clock) {}

  /** Run ids are jr_<position>, so a look-up is an index (a scan per poll made large runs quadratic). */
  private runOf(runId: string) {
    const run = this.runs[Number(runId.slice(3)) - 1];
    return run?.id === runId ? run : this.runs.find((r) => r.id === runId);
  }

  alive(): number {
    return this.runs.filter((r) => ['STARTING', 'RUNNING', 'STOPPING', 'WAITING'].includes(r.state)).length;
  }

  async startJobRun(jobName: string, args: Record<string, string>): Promise<string> {
    this.startCalls += 1;
    // alive() scans every run: only worth it when a limit is set (10,000-partition runs start 10,000 runs).
    if (this.concurrentRunsLimit !== Infinity && this.alive() >= this.concurrentRunsLimit)
      throw new ConcurrentRunsExceededError(`job ${jobName}: too many runs`);
    const id = `jr_${String(this.runs.length + 1).padStart(4, '0')}`;
    const script = this.script(args);
    this.runs.push({
      id,
      jobName,
      state: 'RUNNING',
      arguments: args,
      startedAt: this.clock.now().toISOString(),
      pollsLeft: script.pollsToFinish,
      script,
    });
    return id;
  }

  async getJobRun(_jobName: string, runId: string): Promise<JobRunInfo> {
    const run = this.runOf(runId);
    if (!run) throw new Error(`no run ${runId}`);
    if (run.state === 'RUNNING') {
      if (run.pollsLeft <= 0) {
        if (run.script.finalState === 'SUCCEEDED') await this.writeSummary(run);
        run.state = run.script.finalState;
        if (run.script.errorMessage) run.errorMessage = run.script.errorMessage;
      } else run.pollsLeft -= 1;
    }
    const { jobName: _j, pollsLeft: _p, script: _s, ...info } = run;
    return structuredClone(info);
  }

  /** Ends a run now, as Glue would (a SUCCEEDED run has written its row summary). */
  async finish(runId: string, state: JobRunStateName): Promise<void> {
    const run = this.runOf(runId);
    if (!run) throw new Error(`no run ${runId}`);
    if (state === 'SUCCEEDED') await this.writeSummary(run);
    run.state = state;
  }

  /** The Glue script's last act before success (adapters/aws/glue/convert_partition.py write_job_summary). */
  private async writeSummary(run: JobRunInfo & { script: JobScript }): Promise<void> {
    if (run.arguments[BATCH_ARGUMENT] !== undefined) return this.writeBatchResult(run);
    const uri = run.arguments[SUMMARY_ARGUMENT];
    const store = this.summaries();
    if (uri === undefined || !store || run.script.rows === 'none') return;
    const rows = run.script.rows ?? { in: 10, out: 10, bad: 0 };
    const summary: JobRowSummary = {
      version: 1,
      jobRunId: run.id,
      runKey: run.arguments['--sluice_run_key'] ?? '',
      dataset: run.arguments['--sluice_dataset'] ?? '',
      rowsIn: rows.in,
      rowsOut: rows.out,
      rowsBad: rows.bad,
      rejectsPath: null,
    };
    await store.put(parseS3Uri(uri), JSON.stringify(summary));
  }

  /** A batch run's last act before success: each partition's outcome in the batch's JobBatchResult. */
  private async writeBatchResult(run: JobRunInfo & { script: JobScript }): Promise<void> {
    const store = this.summaries();
    if (!store) return;
    const text = await store.get(parseS3Uri(run.arguments[BATCH_ARGUMENT]!));
    if (text === null) throw new Error(`batch ${run.arguments[BATCH_ARGUMENT]} does not exist`);
    const batch = JSON.parse(text) as JobBatch;
    const rows = run.script.rows === 'none' || !run.script.rows ? { in: 10, out: 10, bad: 0 } : run.script.rows;
    const result: JobBatchResult = {
      version: 1,
      jobRunId: run.id,
      dataset: batch.dataset,
      batchKey: batch.batchKey,
      partitions: batch.partitions.map((p) => {
        const message = run.script.partitionFailure?.(p.partition);
        if (message !== undefined) return { partition: p.partition, runKey: p.runKey, ok: false, message };
        const summary: JobRowSummary = {
          version: 1,
          jobRunId: run.id,
          runKey: p.runKey,
          dataset: batch.dataset,
          rowsIn: rows.in,
          rowsOut: rows.out,
          rowsBad: rows.bad,
          rejectsPath: null,
        };
        return { partition: p.partition, runKey: p.runKey, ok: true, summary };
      }),
    };
    await store.put(parseS3Uri(batch.resultPath), JSON.stringify(result));
  }

  async listRecentJobRuns(_jobName: string, limit: number): Promise<JobRunInfo[]> {
    // Newest first without copying the whole list, and a plain copy per run (structuredClone of 600 runs per
    // start made a 10,000-partition run quadratic; a run's fields are strings and one flat string map).
    const recent: JobRunInfo[] = [];
    for (let i = this.runs.length - 1; i >= 0 && recent.length < limit; i--) {
      const { jobName: _j, pollsLeft: _p, script: _s, ...info } = this.runs[i]!;
      recent.push({ ...info, arguments: { ...info.arguments } });
    }
    return recent;
  }
}

export class FakeQueries implements QueryPort {
  readonly started: Array<{ id: string; sql: string; token: string }> = [];
  outcome: { state: QueryStateName; reason?: string } = { state: 'SUCCEEDED' };
  async startQuery(q: { sql: string; clientRequestToken: string }): Promise<string> {
    const same = this.started.find((s) => s.token === q.clientRequestToken);
    if (same) return same.id;
    const id = `q-${this.started.length + 1}`;
    this.started.push({ id, sql: q.sql, token: q.clientRequestToken });
    return id;
  }
  async getQuery(): Promise<{ state: QueryStateName; reason?: string }> {
    return this.outcome;
  }
}

export class RecordingNotifier implements NotifierPort {
  readonly published: Array<{ subject: string; message: string; attributes: Record<string, string> }> = [];
  async publish(n: { subject: string; message: string; attributes: Record<string, string> }): Promise<string> {
    this.published.push(n);
    return `msg-${this.published.length}`;
  }
  /** The machine-readable report embedded in the n-th message. */
  report(n = 0): Record<string, unknown> {
    const message = this.published[n]?.message ?? '';
    return JSON.parse(message.slice(message.lastIndexOf('\n') + 1)) as Record<string, unknown>;
  }
}

/**
 * Step Functions' StartExecution as AWS answers it: a second start with the same name and input is the same
 * execution ("Executions with the same name and input are considered idempotent", API_StartExecution), so it is
 * recorded once; the run protocol re-issues a start-up lease's start by design (docs/protocol.md).
 */
export class RecordingExecutions implements ExecutionStarter {
  readonly started: Array<{ name: string; input: ExecutionInput }> = [];
  executionArnFor(name: string): string {
    return `arn:aws:states:eu-west-1:123456789012:execution:sluice-test:${name}`;
  }
  async startExecution(name: string, input: ExecutionInput): Promise<string> {
    const same = this.started.find((s) => s.name === name);
    if (!same) this.started.push({ name, input });
    else if (JSON.stringify(same.input) !== JSON.stringify(input))
      throw Object.assign(new Error(`Execution ${name} already exists with another input`), {
        name: 'ExecutionAlreadyExists',
      });
    return this.executionArnFor(name);
  }
}

export const ORDERS_CONFIG = {
  stage: 'test',
  lake: { rawBucket: 'raw-bucket', curatedBucket: 'curated-bucket' },
  datasets: [
    {
      name: 'orders',
      raw: { prefix: 'orders/', format: 'csv' },
      partitioning: {
        style: 'hive',
        keys: [
          { name: 'year', type: 'int', pattern: '^[0-9]{4}$' },
          { name: 'month', type: 'int', pattern: '^(0[1-9]|1[0-2])$' },
          { name: 'day', type: 'int', pattern: '^(0[1-9]|[12][0-9]|3[01])$' },
        ],
      },
      target: { database: 'curated', table: 'orders', locationTemplate: 'orders/year={year}/month={month}/day={day}/' },
      mapping: [
        { source: 'id', target: 'order_id', type: 'bigint' },
        { source: 'amount', target: 'amount', type: 'decimal(10,2)' },
      ],
      debounce: { quietSeconds: 60, maxWaitSeconds: 300 },
      fanOut: { maxConcurrency: 5 },
      polling: { minSeconds: 15, maxSeconds: 300, growth: 0.25 },
    },
    {
      name: 'clicks',
      raw: { prefix: 'events/clicks/', format: 'json' },
      partitioning: {
        style: 'template',
        template: '{dt}/{hour}/',
        keys: [
          { name: 'dt', type: 'date', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' },
          { name: 'hour', type: 'string', pattern: '^([01][0-9]|2[0-3])$' },
        ],
      },
      target: { database: 'curated', table: 'clicks', locationTemplate: 'clicks/dt={dt}/hour={hour}/' },
      mapping: [{ source: 'user', target: 'user_id', type: 'string' }],
    },
  ],
};

export function testConfig(): ResolvedConfig {
  return parseConfig(ORDERS_CONFIG, 'test config');
}

export interface FakeWorld {
  deps: Deps;
  clock: TickingClock;
  crawlers: FakeCrawlers;
  jobs: FakeJobs;
  queries: FakeQueries;
  notifier: RecordingNotifier;
  arrivals: MemoryArrivalLedger;
  leases: MemoryRunLeases;
  executions: RecordingExecutions;
  /** Run artifacts (issue 12): partition lists, ResultWriter output, succeeded/failed lists. */
  artifacts: MemoryArtifactStore;
}

export function fakeWorld(config: ResolvedConfig = testConfig()): FakeWorld {
  const clock = new TickingClock();
  const world = {
    clock,
    crawlers: new FakeCrawlers(clock),
    jobs: new FakeJobs(clock),
    queries: new FakeQueries(),
    notifier: new RecordingNotifier(),
    arrivals: new MemoryArrivalLedger(clock),
    leases: new MemoryRunLeases(),
    executions: new RecordingExecutions(),
    artifacts: new MemoryArtifactStore('sluice-test-artifacts'),
  };
  const deps: Deps = { config, ...world, consoleUrl: (arn) => `https://console.example/${arn}` };
  // The fake Glue writes its row summaries where the steps read them (a test may swap deps.artifacts).
  world.jobs.summaries = () => deps.artifacts;
  return { deps, ...world };
}
