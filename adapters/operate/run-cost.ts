/**
 * What a deployed run cost (issue 23 item 6), read from AWS's own figures; priced by domain/cost/run-cost-report.ts.
 * Used by `sluice runs`/`status --stage` (./aws-stage.ts) and by the failure notification (the run's cost so far).
 *
 * The calls, and what each gives:
 * - GetExecutionHistory: the execution's window (start, end), its transitions (one per `…StateEntered` event) and
 *   the Athena query ids its registration states return (`refresh.queryExecutionIds`).
 * - ListMapRuns + DescribeMapRun: how many child workflow executions its Distributed Map started
 *   (`executionCounts.total`, https://docs.aws.amazon.com/step-functions/latest/apireference/API_MapRunExecutionCounts.html).
 *   Each is billed one transition in the parent plus its own transitions
 *   (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html). Reading every child's history
 *   would cost one call per partition, so a few children are read (ListExecutions by map run) and their mean
 *   stands for all; the report says so in its notes when it is an estimate.
 * - GetJobRuns (the same JobRun as GetJobRun: `DPUSeconds`, `ExecutionTime`, `MaxCapacity`, `NumberOfWorkers`,
 *   `WorkerType`, `ExecutionClass`, https://docs.aws.amazon.com/glue/latest/webapi/API_GetJobRuns.html): the
 *   dataset's job runs started inside the window with its `--sluice_dataset`. One run of a dataset holds its lease
 *   at a time (docs/protocol.md), so the window holds that run's job runs and no other run's of that dataset.
 * - ListCrawls (`DPUHour`, https://docs.aws.amazon.com/glue/latest/webapi/API_ListCrawls.html): the dataset
 *   crawler's crawls started inside the window.
 * - BatchGetQueryExecution (`Statistics.DataScannedInBytes`, the same QueryExecution as GetQueryExecution,
 *   https://docs.aws.amazon.com/athena/latest/APIReference/API_BatchGetQueryExecution.html), 50 ids a call.
 * A part that cannot be read (a permission missing, a history too long) is left at 0 and named in the notes:
 * never a made-up figure.
 */
import { AthenaClient, BatchGetQueryExecutionCommand } from '@aws-sdk/client-athena';
import { GlueClient, ListCrawlsCommand, paginateGetJobRuns, type JobRun } from '@aws-sdk/client-glue';
import {
  DescribeMapRunCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  SFNClient,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import type { ResolvedConfig } from '../../domain/config';
import {
  type RunCostPort,
  billedRunCost,
  modelledRunCost,
  type BilledCrawl,
  type BilledJobRun,
  type RunCost,
  RUN_COST_MODEL,
} from '../../domain/cost';

export interface RunCostClients {
  sfn: SFNClient;
  glue: GlueClient;
  athena: AthenaClient;
}

export function defaultRunCostClients(region?: string): RunCostClients {
  const opts = region ? { region } : {};
  return { sfn: new SFNClient(opts), glue: new GlueClient(opts), athena: new AthenaClient(opts) };
}

/** Pages of history read at most (1,000 events each): a run's own states, not its children's. */
const MAX_HISTORY_PAGES = 50;
/** Pages of job runs (200 each) and of crawls (100 each) read at most, newest first. */
const MAX_JOB_RUN_PAGES = 100;
const MAX_CRAWL_PAGES = 20;
const QUERY_IDS_PER_CALL = 50;

interface ExecutionFacts {
  start: Date;
  stop: Date;
  transitions: number;
  queryIds: string[];
  notes: string[];
}

const errorName = (error: unknown): string => (error as { name?: string }).name ?? 'Error';

function parseOutput(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The query ids a registration state returned, wherever its output holds them (`refresh.queryExecutionIds`). */
function queryIdsOf(output: Record<string, unknown>): string[] {
  const refresh = output.refresh as { queryExecutionIds?: unknown } | undefined;
  const ids = refresh?.queryExecutionIds ?? output.queryExecutionIds;
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
}

export class AwsRunCosts implements RunCostPort {
  constructor(
    private readonly clients: RunCostClients,
    private readonly config: ResolvedConfig,
    private readonly options: { childSamples: number; now: () => Date } = { childSamples: 3, now: () => new Date() },
  ) {}

  /** The run's cost so far (the whole run once it has ended). */
  async costOf(executionArn: string, datasetName: string): Promise<RunCost> {
    const facts = await this.executionFacts(executionArn);
    const notes = [...facts.notes];
    const children = await this.mapTransitions(executionArn, notes);
    const dataset = this.config.datasets.find((d) => d.name === datasetName);
    if (!dataset) notes.push(`glue, crawler: dataset ${datasetName} is not in the config, not read`);
    const jobRuns = dataset ? await this.jobRuns(dataset.job.name, datasetName, facts, notes) : [];
    const crawls = dataset ? await this.crawls(dataset.crawler.name, facts, notes) : [];
    const scannedBytes = await this.scannedBytes(facts.queryIds, notes);
    return billedRunCost({ jobRuns, crawls, scannedBytes, transitions: facts.transitions + children, notes });
  }

  private async executionFacts(executionArn: string): Promise<ExecutionFacts> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await this.clients.sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, includeExecutionData: true, nextToken }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
      pages += 1;
    } while (nextToken && pages < MAX_HISTORY_PAGES);
    const notes = nextToken ? [`step functions: history read up to ${events.length} events`] : [];
    const start = events.find((e) => e.type === 'ExecutionStarted')?.timestamp ?? events[0]?.timestamp;
    const ended = events.find((e) => /^Execution(Succeeded|Failed|TimedOut|Aborted)$/.test(e.type ?? ''));
    const queryIds = new Set<string>();
    for (const e of events)
      if (e.type?.endsWith('StateExited'))
        for (const id of queryIdsOf(parseOutput(e.stateExitedEventDetails?.output))) queryIds.add(id);
    return {
      start: start ?? this.options.now(),
      stop: ended?.timestamp ?? this.options.now(),
      transitions: events.filter((e) => e.type?.endsWith('StateEntered')).length,
      queryIds: [...queryIds],
      notes,
    };
  }

  /** Transitions of the Distributed Map's children: one each in the parent, plus their own (sampled). */
  private async mapTransitions(executionArn: string, notes: string[]): Promise<number> {
    try {
      let total = 0;
      let nextToken: string | undefined;
      do {
        const page = await this.clients.sfn.send(new ListMapRunsCommand({ executionArn, nextToken }));
        for (const m of page.mapRuns ?? []) {
          if (!m.mapRunArn) continue;
          const run = await this.clients.sfn.send(new DescribeMapRunCommand({ mapRunArn: m.mapRunArn }));
          const children = run.executionCounts?.total ?? 0;
          if (children === 0) continue;
          const sample = await this.clients.sfn.send(
            new ListExecutionsCommand({ mapRunArn: m.mapRunArn, maxResults: this.options.childSamples }),
          );
          const counts: number[] = [];
          for (const child of sample.executions ?? [])
            if (child.executionArn) counts.push((await this.executionFacts(child.executionArn)).transitions);
          const mean = counts.length > 0 ? counts.reduce((a, b) => a + b, 0) / counts.length : 0;
          total += children * (1 + mean);
          if (counts.length < children)
            notes.push(
              `step functions: ${children} map children, their transitions estimated from ${counts.length} of them`,
            );
        }
        nextToken = page.nextToken;
      } while (nextToken);
      return Math.round(total);
    } catch (error) {
      notes.push(`step functions: the map's children not read (${errorName(error)})`);
      return 0;
    }
  }

  private async jobRuns(jobName: string, dataset: string, w: ExecutionFacts, notes: string[]): Promise<BilledJobRun[]> {
    const runs: JobRun[] = [];
    try {
      let pages = 0;
      // Newest first: stop at the first page that reaches back past the run's start.
      for await (const page of paginateGetJobRuns({ client: this.clients.glue, pageSize: 200 }, { JobName: jobName })) {
        const listed = page.JobRuns ?? [];
        runs.push(
          ...listed.filter(
            (r) =>
              r.StartedOn !== undefined &&
              r.StartedOn >= w.start &&
              r.StartedOn <= w.stop &&
              (r.Arguments?.['--sluice_dataset'] ?? dataset) === dataset,
          ),
        );
        pages += 1;
        if (listed.some((r) => r.StartedOn !== undefined && r.StartedOn < w.start) || pages >= MAX_JOB_RUN_PAGES) break;
      }
    } catch (error) {
      notes.push(`glue: job runs of ${jobName} not read (${errorName(error)})`);
    }
    return runs;
  }

  private async crawls(crawlerName: string, w: ExecutionFacts, notes: string[]): Promise<BilledCrawl[]> {
    const crawls: BilledCrawl[] = [];
    try {
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await this.clients.glue.send(
          new ListCrawlsCommand({ CrawlerName: crawlerName, MaxResults: 100, NextToken: nextToken }),
        );
        for (const c of page.Crawls ?? [])
          if (c.StartTime && c.StartTime >= w.start && c.StartTime <= w.stop) crawls.push(c);
        nextToken = page.NextToken;
        pages += 1;
      } while (nextToken && pages < MAX_CRAWL_PAGES);
    } catch (error) {
      notes.push(`crawler: crawls of ${crawlerName} not read (${errorName(error)})`);
    }
    return crawls;
  }

  private async scannedBytes(queryIds: string[], notes: string[]): Promise<number[]> {
    const bytes: number[] = [];
    try {
      for (let i = 0; i < queryIds.length; i += QUERY_IDS_PER_CALL) {
        const res = await this.clients.athena.send(
          new BatchGetQueryExecutionCommand({ QueryExecutionIds: queryIds.slice(i, i + QUERY_IDS_PER_CALL) }),
        );
        for (const q of res.QueryExecutions ?? []) bytes.push(q.Statistics?.DataScannedInBytes ?? 0);
      }
    } catch (error) {
      notes.push(`athena: ${queryIds.length} queries not read (${errorName(error)})`);
    }
    return bytes;
  }
}

/** One event of a local run (runtime/state-machine.ts LocalEvent), as far as its cost needs it. */
export interface RunEvent {
  type: string;
  index?: number;
  parentState?: { name: string };
  state?: { name: string; output?: unknown };
}

/**
 * A local run's cost under the model (labelled modelled): its job runs (distinct `job.runId`s its states return)
 * each at the model's start-up, billed with the 1-minute minimum at the model's 2 DPU; a crawl (a state returning
 * `crawl.started: true`) at the 10-minute minimum; DDL free; its transitions: every state entered, plus one per
 * Map iteration (the child execution a Distributed Map starts), as Step Functions would count them.
 */
export function modelledCostOfEvents(events: readonly RunEvent[]): RunCost {
  const jobRuns = new Set<string>();
  let crawled = false;
  let transitions = 0;
  const iterations = new Set<string>();
  for (const e of events) {
    if (e.type === 'StateEntered') transitions += 1;
    if (e.index !== undefined) iterations.add(`${e.parentState?.name ?? ''}\n${e.index}`);
    if (e.type !== 'StateExited') continue;
    const output = (e.state?.output ?? {}) as { job?: { runId?: unknown }; crawl?: { started?: unknown } };
    if (typeof output.job?.runId === 'string') jobRuns.add(output.job.runId);
    if (output.crawl?.started === true) crawled = true;
  }
  return modelledRunCost({
    jobRunBytes: [...jobRuns].map(() => 0),
    dpu: RUN_COST_MODEL.glueMinimumDpu,
    crawls: crawled ? 1 : 0,
    transitions: transitions + iterations.size,
  });
}
