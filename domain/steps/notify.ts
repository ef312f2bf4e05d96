import type {
  ExecutionInput,
  FailureReport,
  JobRunResult,
  JobRunSummary,
  ManualRunInput,
  NotifyFailureInput,
  NotifyFailureOutput,
  PartitionValues,
} from '../../schemas/types.generated';
import type { Deps, Log } from '../ports';
import { readCause } from '../errors';

export { readCause };
import { truncate } from './jobs';

/**
 * SNS Publish: "Subjects must be UTF-8 text with no line breaks or control characters, and less than 100
 * characters long" (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html); e-mail endpoints also refuse
 * non-ASCII subjects. A subject that breaks this makes Publish fail with InvalidParameter and the notification is
 * lost, so the subject is made safe here, whatever the dataset is called.
 */
export const SUBJECT_MAX_LENGTH = 99;
const LISTED_PARTITIONS = 50;

/** Printable ASCII only, whitespace runs collapsed, at most SUBJECT_MAX_LENGTH characters ("..." marks a cut). */
export function snsSubject(text: string): string {
  const printable = text
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  const subject = printable.length > 0 ? printable : 'sluice notification';
  return subject.length <= SUBJECT_MAX_LENGTH ? subject : `${subject.slice(0, SUBJECT_MAX_LENGTH - 3)}...`;
}

function asSummary(value: unknown): JobRunSummary | undefined {
  const candidate = value as JobRunSummary | undefined;
  return candidate && Array.isArray(candidate.failed) && typeof candidate.succeededCount === 'number'
    ? candidate
    : undefined;
}

function buildReport(input: NotifyFailureInput, deps: Deps): FailureReport {
  const state = input.state;
  const dataset = state.run?.dataset ?? state.dataset ?? 'unknown';
  const [failedStep, stepError] = Object.entries(state.failure ?? {})[0] ?? [];
  const summary = asSummary(state.jobResults);
  const failedPartitions: JobRunResult[] = summary?.failed ?? [];
  let error: string;
  let cause: string;
  if (failedStep && stepError) {
    error = stepError.Error;
    cause = readCause(stepError.Cause);
  } else if (failedPartitions.length > 0) {
    error = 'JobRunsFailed';
    const total = failedPartitions.length + (summary?.succeededCount ?? 0);
    cause = `${failedPartitions.length} of ${total} partition job runs failed`;
  } else {
    error = 'UnknownFailure';
    cause = 'the run failed without a recorded error';
  }
  const crawled = state.crawl?.done === true || state.run?.skipCrawler === true;
  let rerunInput: ExecutionInput | null = null;
  const partitions: PartitionValues[] | undefined =
    failedPartitions.length > 0 ? failedPartitions.map((f) => f.partition) : state.partitions;
  if (!state.run) {
    // The request itself was refused (bad input or unknown dataset): there is nothing valid to re-run.
  } else if (partitions && partitions.length > 0) {
    rerunInput = { dataset, partitions: partitions as ManualRunInput['partitions'], skipCrawler: crawled };
  } else if (state.run.mode === 'automatic') {
    // Nothing was claimed yet, so the arrivals are still pending: an automatic run picks them up.
    rerunInput = { dataset, trigger: 'arrival' };
  }
  return {
    dataset,
    stage: deps.config.stage,
    failedStep: failedStep ?? (failedPartitions.length > 0 ? 'processPartitions' : 'unknown'),
    error,
    cause: truncate(cause, 4000),
    failedPartitions,
    executionArn: input.executionArn,
    consoleUrl: deps.consoleUrl(input.executionArn),
    rerunInput,
  };
}

export function formatMessage(report: FailureReport): string {
  const lines = [
    `sluice run failed`,
    ``,
    `Dataset:      ${report.dataset}`,
    `Stage:        ${report.stage}`,
    `Failed step:  ${report.failedStep}`,
    `Error:        ${report.error}`,
    `Cause:        ${report.cause}`,
    `Execution:    ${report.executionArn}`,
    `Console:      ${report.consoleUrl}`,
  ];
  if (report.failedPartitions.length > 0) {
    lines.push('', `Failed partitions (${report.failedPartitions.length}):`);
    for (const f of report.failedPartitions.slice(0, LISTED_PARTITIONS))
      lines.push(`  ${JSON.stringify(f.partition)}  ${f.state}${f.message ? `: ${f.message}` : ''}`);
    if (report.failedPartitions.length > LISTED_PARTITIONS)
      lines.push(`  ... and ${report.failedPartitions.length - LISTED_PARTITIONS} more (all are in the re-run input)`);
  }
  lines.push(
    '',
    'To re-run, start a new execution of the state machine with this input:',
    report.rerunInput ? JSON.stringify(report.rerunInput) : '(none: fix the input or the config, then start again)',
    '',
    'Machine-readable report:',
    JSON.stringify(report),
  );
  return lines.join('\n');
}

/** The one way out of every failure path: tell people what broke and how to re-run it. */
export async function notifyFailure(input: NotifyFailureInput, deps: Deps, log: Log): Promise<NotifyFailureOutput> {
  const report = buildReport(input, deps);
  const subject = snsSubject(`sluice ${report.stage}: ${report.dataset} failed at ${report.failedStep}`);
  const messageId = await deps.notifier.publish({
    subject,
    message: formatMessage(report),
    attributes: { dataset: report.dataset, stage: report.stage, failedStep: report.failedStep, error: report.error },
  });
  log.warn('failure notified', { failedStep: report.failedStep, error: report.error, messageId });
  return { messageId, report };
}
