/** Glue (awsJson1_1, X-Amz-Target AWSGlue.<Operation>): crawlers and job runs, with Glue's own error codes. */
import { AwsFault, epochSeconds, type Body, type FakeAwsServer, type JsonValue } from './server';

export interface CrawlOutcome {
  status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  errorMessage?: string;
}
export interface JobOutcome {
  state: 'SUCCEEDED' | 'FAILED' | 'TIMEOUT' | 'STOPPED' | 'ERROR';
  errorMessage?: string;
  /**
   * A SUCCEEDED run asked for a row summary (`--sluice_summary_path`) writes one, as the Glue script does: these
   * counts (default 10 in, 10 out, 0 bad), raw text to write instead (`{ body }`), or 'none' (the script wrote none).
   */
  rows?: { in: number; out: number; bad: number } | { body: string } | 'none';
  /** A batch run (`--sluice_batch`, docs/batches.md): each failing partition's message (undefined: it succeeds). */
  partitionFailure?: (partition: Record<string, string>) => string | undefined;
}

interface Crawler {
  state: 'READY' | 'RUNNING' | 'STOPPING';
  startedAt?: Date;
  pollsLeft: number;
  last?: { Status: string; StartTime: number; ErrorMessage?: string };
}
interface JobRun {
  Id: string;
  JobName: string;
  JobRunState: string;
  StartedOn: number;
  CompletedOn?: number;
  Arguments: Record<string, string>;
  ErrorMessage?: string;
  pollsLeft: number;
}

export class FakeGlue {
  private readonly crawlers = new Map<string, Crawler>();
  readonly runs: JobRun[] = [];
  /** How each crawl ends (default: SUCCEEDED). */
  crawlOutcome: (name: string) => CrawlOutcome = () => ({ status: 'SUCCEEDED' });
  /** How each job run ends, from its arguments (default: SUCCEEDED). */
  jobOutcome: (args: Record<string, string>) => JobOutcome = () => ({ state: 'SUCCEEDED' });
  /** Status polls a crawl or job run stays RUNNING. */
  pollsUntilDone = 1;
  /** Names Glue knows; others answer EntityNotFoundException (undefined: every name exists). */
  knownNames?: Set<string>;
  /** Catalog tables GetTable answers (`database.table` -> columns); others answer EntityNotFoundException. */
  readonly tables = new Map<string, Array<{ Name: string; Type: string }>>();
  /** Where job runs write their row summaries (startAwsFakes: the S3 fake). */
  summaries?: (bucket: string, key: string, body: string) => void;
  /** Where a batch run reads its batch file (startAwsFakes: the S3 fake). */
  objects?: (bucket: string, key: string) => string | undefined;

  constructor(private readonly now: () => Date = () => new Date()) {}

  reset(): void {
    this.crawlers.clear();
    this.tables.clear();
    this.runs.length = 0;
    this.crawlOutcome = () => ({ status: 'SUCCEEDED' });
    this.jobOutcome = () => ({ state: 'SUCCEEDED' });
    this.pollsUntilDone = 1;
    delete this.knownNames;
  }

  register(server: FakeAwsServer): void {
    server.register({
      name: 'glue',
      protocol: 'awsJson1_1',
      targetPrefix: 'AWSGlue',
      operations: {
        StartCrawler: (b) => this.startCrawler(b),
        GetCrawler: (b) => this.getCrawler(b),
        StartJobRun: (b) => this.startJobRun(b),
        GetJobRun: (b) => this.getJobRun(b),
        GetJobRuns: (b) => this.getJobRuns(b),
        GetTable: (b) => this.getTable(b),
      },
    });
  }

  private known(name: string, what: string): void {
    if (this.knownNames && !this.knownNames.has(name))
      throw new AwsFault('EntityNotFoundException', `${what} ${name} not found`);
  }

  private getTable({ DatabaseName, Name }: Body): JsonValue {
    const columns = this.tables.get(`${DatabaseName}.${Name}`);
    if (!columns) throw new AwsFault('EntityNotFoundException', `Table ${Name} not found.`);
    return { Table: { Name, DatabaseName, StorageDescriptor: { Columns: columns } } };
  }

  private startCrawler({ Name }: Body): JsonValue {
    this.known(Name, 'Crawler');
    const crawler = this.crawlers.get(Name) ?? { state: 'READY', pollsLeft: 0 };
    if (crawler.state !== 'READY')
      throw new AwsFault('CrawlerRunningException', `Crawler with name ${Name} has already started`);
    this.crawlers.set(Name, { ...crawler, state: 'RUNNING', startedAt: this.now(), pollsLeft: this.pollsUntilDone });
    return {};
  }

  private getCrawler({ Name }: Body): JsonValue {
    this.known(Name, 'Crawler');
    const crawler = this.crawlers.get(Name) ?? { state: 'READY', pollsLeft: 0 };
    if (crawler.state === 'RUNNING' && crawler.pollsLeft-- <= 0) {
      const outcome = this.crawlOutcome(Name);
      crawler.state = 'READY';
      crawler.last = { Status: outcome.status, StartTime: epochSeconds(crawler.startedAt!) };
      if (outcome.errorMessage) crawler.last.ErrorMessage = outcome.errorMessage;
    }
    this.crawlers.set(Name, crawler);
    const answer: Record<string, JsonValue> = { Name, State: crawler.state };
    if (crawler.state === 'RUNNING') answer.CrawlElapsedTime = this.now().getTime() - crawler.startedAt!.getTime();
    if (crawler.last) answer.LastCrawl = crawler.last;
    return { Crawler: answer };
  }

  private startJobRun({ JobName, Arguments }: Body): JsonValue {
    this.known(JobName, 'Job');
    const run: JobRun = {
      Id: `jr_${(this.runs.length + 1).toString().padStart(8, '0')}`,
      JobName,
      JobRunState: 'RUNNING',
      StartedOn: epochSeconds(this.now()),
      Arguments: (Arguments ?? {}) as Record<string, string>,
      pollsLeft: this.pollsUntilDone,
    };
    this.runs.push(run);
    return { JobRunId: run.Id };
  }

  private advance(run: JobRun): JobRun {
    if (run.JobRunState === 'RUNNING' && run.pollsLeft-- <= 0) {
      const outcome = this.jobOutcome(run.Arguments);
      run.JobRunState = outcome.state;
      run.CompletedOn = epochSeconds(this.now());
      if (outcome.errorMessage) run.ErrorMessage = outcome.errorMessage;
      if (outcome.state === 'SUCCEEDED') this.writeSummary(run, outcome);
    }
    return run;
  }

  /** The Glue script's last act before success (adapters/aws/glue/convert_partition.py write_job_summary). */
  private writeSummary(run: JobRun, outcome: JobOutcome): void {
    if (run.Arguments['--sluice_batch'] !== undefined) return this.writeBatchResult(run, outcome);
    const uri = run.Arguments['--sluice_summary_path'];
    const match = uri ? /^s3:\/\/([^/]+)\/(.+)$/.exec(uri) : null;
    if (!match || !this.summaries || outcome.rows === 'none') return;
    const rows = outcome.rows ?? { in: 10, out: 10, bad: 0 };
    const body =
      'body' in rows
        ? rows.body
        : JSON.stringify({
            version: 1,
            jobRunId: run.Id,
            runKey: run.Arguments['--sluice_run_key'] ?? '',
            dataset: run.Arguments['--sluice_dataset'] ?? '',
            rowsIn: rows.in,
            rowsOut: rows.out,
            rowsBad: rows.bad,
            rejectsPath: null,
          });
    this.summaries(match[1]!, match[2]!, body);
  }

  /** A batch run's last act before success (convert_partition.py convert_batch): its JobBatchResult. */
  private writeBatchResult(run: JobRun, outcome: JobOutcome): void {
    const at = /^s3:\/\/([^/]+)\/(.+)$/.exec(run.Arguments['--sluice_batch']!);
    const text = at && this.objects?.(at[1]!, at[2]!);
    if (!text || !this.summaries) throw new AwsFault('EntityNotFoundException', 'batch file not found');
    const batch = JSON.parse(text) as {
      dataset: string;
      batchKey: string;
      resultPath: string;
      partitions: Array<{ partition: Record<string, string>; runKey: string }>;
    };
    const rows =
      outcome.rows && outcome.rows !== 'none' && 'in' in outcome.rows ? outcome.rows : { in: 10, out: 10, bad: 0 };
    const result = {
      version: 1,
      jobRunId: run.Id,
      dataset: batch.dataset,
      batchKey: batch.batchKey,
      partitions: batch.partitions.map(({ partition, runKey }) => {
        const message = outcome.partitionFailure?.(partition);
        if (message !== undefined) return { partition, runKey, ok: false, message };
        const summary = {
          version: 1,
          jobRunId: run.Id,
          runKey,
          dataset: batch.dataset,
          rowsIn: rows.in,
          rowsOut: rows.out,
          rowsBad: rows.bad,
          rejectsPath: null,
        };
        return { partition, runKey, ok: true, summary };
      }),
    };
    const to = /^s3:\/\/([^/]+)\/(.+)$/.exec(batch.resultPath)!;
    this.summaries(to[1]!, to[2]!, JSON.stringify(result));
  }

  private wire(run: JobRun): JsonValue {
    const { pollsLeft: _pollsLeft, ...wire } = run;
    return wire as unknown as JsonValue;
  }

  private getJobRun({ JobName, RunId }: Body): JsonValue {
    const run = this.runs.find((r) => r.JobName === JobName && r.Id === RunId);
    if (!run) throw new AwsFault('EntityNotFoundException', `Job run ${RunId} not found`);
    return { JobRun: this.wire(this.advance(run)) };
  }

  /** Newest first, paged by MaxResults/NextToken, as Glue lists them. */
  private getJobRuns({ JobName, MaxResults, NextToken }: Body): JsonValue {
    this.known(JobName, 'Job');
    const all = this.runs.filter((r) => r.JobName === JobName).reverse();
    const from = NextToken ? Number(NextToken) : 0;
    const size = Number(MaxResults ?? 100);
    const page = all.slice(from, from + size).map((r) => this.wire(r));
    return from + size < all.length ? { JobRuns: page, NextToken: String(from + size) } : { JobRuns: page };
  }

  /** A crawl that is already running (started by someone else, e.g. the console), `secondsAgo` before now. */
  crawlerRunningSince(name: string, secondsAgo: number): void {
    this.crawlers.set(name, {
      state: 'RUNNING',
      startedAt: new Date(this.now().getTime() - secondsAgo * 1000),
      pollsLeft: this.pollsUntilDone,
    });
  }

  /** Job runs started for a partition whose `--sluice_partition` argument equals this JSON. */
  runsFor(partition: Record<string, string>): JobRun[] {
    return this.runs.filter((r) => r.Arguments['--sluice_partition'] === JSON.stringify(partition));
  }
}
