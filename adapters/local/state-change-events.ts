/**
 * The three AWS state-change events in AWS's shapes (schemas/waits.schema.json), for the local stand-ins to publish
 * on the local bus when a job run, crawl or query reaches a final state, and for tests. Field names and state
 * spellings follow AWS: Glue job states upper case (SUCCEEDED, FAILED, TIMEOUT, STOPPED), crawler states
 * capitalised (Started, Succeeded, Failed), Athena `currentState`/`previousState`.
 * Sources: https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html,
 * https://docs.aws.amazon.com/athena/latest/ug/athena-events.html
 */
import type {
  AthenaQueryStateChangeEvent,
  GlueCrawlerStateChangeEvent,
  GlueJobStateChangeEvent,
} from '../../schemas/types.generated';

export function glueJobStateChange(
  jobName: string,
  jobRunId: string,
  state: string,
  time = new Date(),
): GlueJobStateChangeEvent {
  return {
    source: 'aws.glue',
    'detail-type': 'Glue Job State Change',
    time: time.toISOString(),
    detail: {
      jobName,
      jobRunId,
      state,
      severity: state === 'SUCCEEDED' ? 'INFO' : 'ERROR',
      message: `Job run ${state.toLowerCase()}`,
    },
  };
}

export function glueCrawlerStateChange(
  crawlerName: string,
  state: 'Started' | 'Succeeded' | 'Failed',
  time = new Date(),
  errorMessage?: string,
): GlueCrawlerStateChangeEvent {
  return {
    source: 'aws.glue',
    'detail-type': 'Glue Crawler State Change',
    time: time.toISOString(),
    detail: { crawlerName, state, message: `Crawler ${state}`, ...(errorMessage ? { errorMessage } : {}) },
  };
}

export function athenaQueryStateChange(
  queryExecutionId: string,
  currentState: string,
  previousState: string,
  workgroupName: string,
  time = new Date(),
): AthenaQueryStateChangeEvent {
  return {
    source: 'aws.athena',
    'detail-type': 'Athena Query State Change',
    time: time.toISOString(),
    detail: { queryExecutionId, currentState, previousState, workgroupName, statementType: 'DDL', versionId: '0' },
  };
}
