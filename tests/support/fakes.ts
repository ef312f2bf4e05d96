/** Scriptable in-memory ports for unit and state-machine tests. */
import { parseConfig, type ResolvedConfig } from '../../domain/config';
import { ConcurrentRunsExceededError } from '../../domain/errors';
import type {
  Clock,
  CrawlOutcome,
  CrawlerPort,
  CrawlerStatus,
  Deps,
  ExecutionStarter,
  JobPort,
  JobRunInfo,
  JobRunStateName,
  NotifierPort,
  QueryPort,
  QueryStateName,
} from '../../domain/ports';
import type { ExecutionInput } from '../../schemas/types.generated';
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
}

export class FakeJobs implements JobPort {
  readonly runs: Array<JobRunInfo & { jobName: string; pollsLeft: number; script: JobScript }> = [];
  /** Decides each run's fate from its arguments (the partition is in --sluice_partition). */
  script: (args: Record<string, string>) => JobScript = () => ({ pollsToFinish: 1, finalState: 'SUCCEEDED' });
  concurrentRunsLimit = Infinity;
  startCalls = 0;

  constructor(private readonly clock: Clock) {}

  alive(): number {
    return this.runs.filter((r) => ['STARTING', 'RUNNING', 'STOPPING', 'WAITING'].includes(r.state)).length;
  }

  async startJobRun(jobName: string, args: Record<string, string>): Promise<string> {
    this.startCalls += 1;
    if (this.alive() >= this.concurrentRunsLimit)
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
    const run = this.runs.find((r) => r.id === runId);
    if (!run) throw new Error(`no run ${runId}`);
    if (run.state === 'RUNNING') {
      if (run.pollsLeft <= 0) {
        run.state = run.script.finalState;
        if (run.script.errorMessage) run.errorMessage = run.script.errorMessage;
      } else run.pollsLeft -= 1;
    }
    const { jobName: _j, pollsLeft: _p, script: _s, ...info } = run;
    return structuredClone(info);
  }

  async listRecentJobRuns(_jobName: string, limit: number): Promise<JobRunInfo[]> {
    return this.runs
      .slice()
      .reverse()
      .slice(0, limit)
      .map(({ jobName: _j, pollsLeft: _p, script: _s, ...info }) => structuredClone(info));
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

export class RecordingExecutions implements ExecutionStarter {
  readonly started: Array<{ name: string; input: ExecutionInput }> = [];
  executionArnFor(name: string): string {
    return `arn:aws:states:eu-west-1:123456789012:execution:sluice-test:${name}`;
  }
  async startExecution(name: string, input: ExecutionInput): Promise<string> {
    this.started.push({ name, input });
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
  };
  const deps: Deps = { config, ...world, consoleUrl: (arn) => `https://console.example/${arn}` };
  return { deps, ...world };
}
