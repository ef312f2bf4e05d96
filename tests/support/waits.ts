/** Builders for the wait tests (issue 13): await payloads, EventBridge state-change events, a recording log. */
import {
  athenaQueryStateChange,
  glueCrawlerStateChange,
  glueJobStateChange,
} from '../../adapters/local/state-change-events';
import { datasetNamed } from '../../domain/config';
import type { Log } from '../../domain/common';
import type {
  AthenaQueryStateChangeEvent,
  AwaitCrawlerInput,
  AwaitJobRunInput,
  AwaitPartitionRefreshInput,
  GlueCrawlerStateChangeEvent,
  GlueJobStateChangeEvent,
} from '../../schemas/types.generated';
import type { FakeWorld } from './fakes';

export const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:run-1';
export const PARTITION = { year: '2024', month: '03', day: '01' };

export function jobNameOf(world: FakeWorld, dataset = 'orders'): string {
  return datasetNamed(world.deps.config, dataset).job.name;
}

export function crawlerNameOf(world: FakeWorld, dataset = 'orders'): string {
  return datasetNamed(world.deps.config, dataset).crawler.name;
}

export function awaitJobInput(
  runId: string,
  taskToken: string,
  startedAt = '2024-03-01T10:00:00.000Z',
): AwaitJobRunInput {
  return {
    dataset: 'orders',
    partition: PARTITION,
    executionArn: EXECUTION,
    job: { runId, runKey: `sk1-${runId}`, attached: false, startedAt, done: false, waitSeconds: 15 },
    taskToken,
  };
}

export function awaitCrawlerInput(world: FakeWorld, taskToken: string, requestedAt: string): AwaitCrawlerInput {
  return {
    dataset: 'orders',
    executionArn: EXECUTION,
    crawl: {
      crawlerName: crawlerNameOf(world),
      requestedAt,
      started: true,
      attached: false,
      startedAt: requestedAt,
      done: false,
      waitSeconds: 15,
    },
    taskToken,
  };
}

export function awaitRefreshInput(queryExecutionIds: string[], taskToken: string): AwaitPartitionRefreshInput {
  return {
    dataset: 'orders',
    executionArn: EXECUTION,
    refresh: {
      queryExecutionIds,
      partitionCount: 1,
      startedAt: '2024-03-01T10:00:00.000Z',
      done: false,
      waitSeconds: 1,
    },
    taskToken,
  };
}

const AT = new Date('2024-03-01T11:00:00Z');
export const glueJobEvent = (jobName: string, jobRunId: string, state: string): GlueJobStateChangeEvent =>
  glueJobStateChange(jobName, jobRunId, state, AT);
export const crawlerEvent = (crawlerName: string, state: string): GlueCrawlerStateChangeEvent =>
  glueCrawlerStateChange(crawlerName, state as 'Started' | 'Succeeded' | 'Failed', AT);
export const athenaEvent = (queryExecutionId: string, currentState: string): AthenaQueryStateChangeEvent =>
  athenaQueryStateChange(queryExecutionId, currentState, 'RUNNING', 'primary', AT);

export interface RecordingLog extends Log {
  lines: Array<{ level: string; message: string; extra?: Record<string, unknown> }>;
}

export function recordingLog(): RecordingLog {
  const lines: RecordingLog['lines'] = [];
  const at =
    (level: string) =>
    (message: string, extra?: Record<string, unknown>): void => {
      lines.push({ level, message, ...(extra ? { extra } : {}) });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
