import {
  GetCrawlerCommand,
  GetJobRunCommand,
  GetTableCommand,
  paginateGetJobRuns,
  StartCrawlerCommand,
  StartJobRunCommand,
  type GlueClient,
  type JobRun,
} from '@aws-sdk/client-glue';
import type { Clock, CrawlerPort, CrawlerStatus, JobPort, JobRunInfo, JobRunStateName } from '../../domain/common';
import { call, mapAwsError } from './errors';

export class GlueCrawlers implements CrawlerPort {
  constructor(
    private readonly glue: GlueClient,
    private readonly clock: Clock,
  ) {}

  async startCrawler(name: string): Promise<'started' | 'already-running'> {
    try {
      await this.glue.send(new StartCrawlerCommand({ Name: name }));
      return 'started';
    } catch (error) {
      if ((error as { name?: string }).name === 'CrawlerRunningException') return 'already-running';
      throw mapAwsError(error, `Glue StartCrawler ${name}`);
    }
  }

  async getCrawlerStatus(name: string): Promise<CrawlerStatus> {
    const { Crawler } = await call(`Glue GetCrawler ${name}`, () =>
      this.glue.send(new GetCrawlerCommand({ Name: name })),
    );
    const state = (Crawler?.State ?? 'READY') as CrawlerStatus['state'];
    const status: CrawlerStatus = { state };
    if (state !== 'READY' && Crawler?.CrawlElapsedTime !== undefined)
      status.currentCrawlStartedAt = new Date(this.clock.now().getTime() - Crawler.CrawlElapsedTime).toISOString();
    const last = Crawler?.LastCrawl;
    if (last?.Status && last.StartTime) {
      status.lastCrawl = { status: last.Status, startedAt: last.StartTime.toISOString() };
      if (last.ErrorMessage) status.lastCrawl.errorMessage = last.ErrorMessage;
    }
    return status;
  }
}

function toInfo(run: JobRun): JobRunInfo {
  const info: JobRunInfo = {
    id: run.Id ?? '',
    state: (run.JobRunState ?? 'STARTING') as JobRunStateName,
    arguments: run.Arguments ?? {},
  };
  if (run.StartedOn) info.startedAt = run.StartedOn.toISOString();
  if (run.ErrorMessage) info.errorMessage = run.ErrorMessage;
  return info;
}

export class GlueJobs implements JobPort {
  constructor(private readonly glue: GlueClient) {}

  async startJobRun(jobName: string, args: Record<string, string>): Promise<string> {
    const { JobRunId } = await call(`Glue StartJobRun ${jobName}`, () =>
      this.glue.send(new StartJobRunCommand({ JobName: jobName, Arguments: args })),
    );
    if (!JobRunId) throw new Error(`Glue StartJobRun ${jobName} returned no JobRunId`);
    return JobRunId;
  }

  async getJobRun(jobName: string, runId: string): Promise<JobRunInfo> {
    const { JobRun } = await call(`Glue GetJobRun ${jobName}`, () =>
      this.glue.send(new GetJobRunCommand({ JobName: jobName, RunId: runId, PredecessorsIncluded: false })),
    );
    if (!JobRun) throw new Error(`Glue GetJobRun ${jobName} ${runId} returned no run`);
    return toInfo(JobRun);
  }

  async listRecentJobRuns(jobName: string, limit: number): Promise<JobRunInfo[]> {
    const runs: JobRunInfo[] = [];
    try {
      for await (const page of paginateGetJobRuns(
        { client: this.glue, pageSize: Math.min(200, limit) },
        { JobName: jobName },
      )) {
        for (const run of page.JobRuns ?? []) {
          runs.push(toInfo(run));
          if (runs.length >= limit) return runs;
        }
      }
    } catch (error) {
      throw mapAwsError(error, `Glue GetJobRuns ${jobName}`);
    }
    return runs;
  }
}

/**
 * Issue 24: the raw table the crawler wrote, read with GetTable (columns of its storage descriptor; partition keys
 * are separate in Glue, PartitionKeys). A table that does not exist (EntityNotFoundException) is null.
 * https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-catalog-tables.html#aws-glue-api-catalog-tables-GetTable
 */
export async function getRawTableColumns(
  glue: GlueClient,
  database: string,
  table: string,
): Promise<Array<{ name: string; type?: string }> | null> {
  try {
    const { Table } = await glue.send(new GetTableCommand({ DatabaseName: database, Name: table }));
    return (Table?.StorageDescriptor?.Columns ?? []).map((c) => ({
      name: c.Name ?? '',
      ...(c.Type ? { type: c.Type } : {}),
    }));
  } catch (error) {
    if ((error as { name?: string }).name === 'EntityNotFoundException') return null;
    throw mapAwsError(error, `Glue GetTable ${database}.${table}`);
  }
}
