import type {
  ExecutionInput,
  FailureReport,
  JobRunResult,
  JobRunSummary,
  ManualRunInput,
  MapRunSummary,
  NotifyFailureInput,
  NotifyFailureOutput,
  PartitionValues,
} from '../../schemas/types.generated';
import type { Deps } from '../deps';
import { type Log, s3Uri, readCause } from '../common';
import { manifestInputFor } from './summary';
import { formatRunCost } from '../cost';

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

/** What the notification needs of the run's results, from the summary (issue 12) or an older inline summary. */
interface ResultsDigest {
  firstFailures: JobRunResult[];
  failedCount: number;
  succeededCount: number;
  rerunInput: ExecutionInput | null;
  failedPartitionsUri?: string;
  resultsManifest?: string;
}

function asDigest(value: unknown): ResultsDigest | undefined {
  const summary = value as Partial<MapRunSummary> | undefined;
  if (summary && Array.isArray(summary.firstFailures) && typeof summary.failedCount === 'number')
    return {
      firstFailures: summary.firstFailures,
      failedCount: summary.failedCount,
      succeededCount: summary.succeededCount ?? 0,
      rerunInput: summary.rerunInput ?? null,
      ...(summary.failed ? { failedPartitionsUri: s3Uri(summary.failed) } : {}),
      ...(summary.resultsManifest ? { resultsManifest: summary.resultsManifest } : {}),
    };
  const inline = value as JobRunSummary | undefined;
  return inline && Array.isArray(inline.failed) && typeof inline.succeededCount === 'number'
    ? {
        firstFailures: inline.failed.slice(0, LISTED_PARTITIONS),
        failedCount: inline.failed.length,
        succeededCount: inline.succeededCount,
        rerunInput: null,
      }
    : undefined;
}

/** The run's own partition list (a manual run's, or the claim's), as a manifest input; null when there is none. */
function listRerunInput(state: NotifyFailureInput['state'], dataset: string, skipCrawler: boolean) {
  const items = (state as { debounce?: { items?: { bucket?: unknown; key?: unknown } } }).debounce?.items;
  return items && typeof items.bucket === 'string' && typeof items.key === 'string'
    ? manifestInputFor(dataset, { bucket: items.bucket, key: items.key }, skipCrawler)
    : null;
}

function buildReport(input: NotifyFailureInput, deps: Deps): FailureReport {
  const state = input.state;
  const dataset = state.run?.dataset ?? state.dataset ?? 'unknown';
  const [failedStep, stepError] = Object.entries(state.failure ?? {})[0] ?? [];
  const summary = asDigest(state.jobResults);
  const failedPartitions: JobRunResult[] = summary?.firstFailures ?? [];
  const failedCount = summary?.failedCount ?? 0;
  let error: string;
  let cause: string;
  if (failedStep && stepError) {
    error = stepError.Error;
    cause = readCause(stepError.Cause);
  } else if (failedCount > 0) {
    error = 'JobRunsFailed';
    const total = failedCount + (summary?.succeededCount ?? 0);
    cause = `${failedCount} of ${total} partition job runs failed`;
  } else {
    error = 'UnknownFailure';
    cause = 'the run failed without a recorded error';
  }
  const crawled = state.crawl?.done === true || state.run?.skipCrawler === true;
  // Which partitions still need a run depends on where it broke (issue 21, defects 5 and 12):
  // - job runs failed: the failed partitions (the others were converted and registered);
  // - registering in Athena failed: the run's whole list, since its succeeded partitions were converted but never
  //   registered and would otherwise appear in no list;
  // - only the release of the lease failed: nothing. Every partition was processed and registered; the release
  //   after the failure forgets the claim (its succeeded list keeps it all) and hands the lease on.
  const registrationFailed = failedStep !== undefined && /PartitionRefresh/.test(failedStep);
  const onlyReleaseFailed = failedStep === 'releaseLease';
  const runList = listRerunInput(state, dataset, crawled);
  let rerunInput: ExecutionInput | null = null;
  // Issue 12: the failed partitions, or else the run's whole list, by reference (a manifest input), any size.
  // The re-run skips the crawl whenever this run's crawl is done (the summary only knows the run's own setting).
  const stored = summary?.rerunInput ? { ...summary.rerunInput, skipCrawler: crawled } : null;
  const byReference = registrationFailed ? (runList ?? stored) : (stored ?? (failedCount > 0 ? null : runList));
  const partitions: PartitionValues[] | undefined =
    failedPartitions.length > 0 && !registrationFailed ? failedPartitions.map((f) => f.partition) : state.partitions;
  if (!state.run || onlyReleaseFailed) {
    // The request itself was refused (bad input or unknown dataset), or all the work was done: nothing to re-run.
  } else if (byReference) {
    rerunInput = byReference;
  } else if (partitions && partitions.length > 0) {
    rerunInput = { dataset, partitions: partitions as ManualRunInput['partitions'], skipCrawler: crawled };
  } else if (state.run.mode === 'automatic') {
    // Nothing was claimed yet, so the arrivals are still pending: an automatic run picks them up.
    rerunInput = { dataset, trigger: 'arrival' };
  }
  return {
    dataset,
    stage: deps.config.stage,
    failedStep: failedStep ?? (failedCount > 0 ? 'processPartitions' : 'unknown'),
    error,
    cause: truncate(cause, 4000),
    failedPartitions,
    executionArn: input.executionArn,
    consoleUrl: deps.consoleUrl(input.executionArn),
    rerunInput,
    ...(failedCount > 0 ? { failedCount } : {}),
    ...(summary?.failedPartitionsUri ? { failedPartitionsUri: summary.failedPartitionsUri } : {}),
    ...(summary?.resultsManifest ? { resultsManifest: summary.resultsManifest } : {}),
  };
}

/**
 * The run's cost so far (issue 23 item 6), when the stage can read it. Reading it never fails the notification: a
 * cost that cannot be read is left out and logged.
 */
async function costSoFar(input: NotifyFailureInput, dataset: string, deps: Deps, log: Log) {
  if (!deps.runCosts) return undefined;
  try {
    return await deps.runCosts.costOf(input.executionArn, dataset);
  } catch (error) {
    log.warn('run cost not read', { error: (error as Error).message });
    return undefined;
  }
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
    ...(report.cost ? [`Cost so far:  ${formatRunCost(report.cost)}`] : []),
  ];
  const failedCount = report.failedCount ?? report.failedPartitions.length;
  if (failedCount > 0) {
    lines.push('', `Failed partitions (${failedCount}):`);
    for (const f of report.failedPartitions.slice(0, LISTED_PARTITIONS))
      lines.push(`  ${JSON.stringify(f.partition)}  ${f.state}${f.message ? `: ${f.message}` : ''}`);
    const listed = Math.min(report.failedPartitions.length, LISTED_PARTITIONS);
    if (failedCount > listed) lines.push(`  ... and ${failedCount - listed} more (all are in the re-run input)`);
  }
  // Issue 12: the full lists stay in objects; the message points at them, so its size does not grow with the run.
  if (report.failedPartitionsUri) lines.push(`All failed partitions: ${report.failedPartitionsUri}`);
  if (report.resultsManifest) lines.push(`All results (ResultWriter manifest): ${report.resultsManifest}`);
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
  const built = buildReport(input, deps);
  const cost = await costSoFar(input, built.dataset, deps, log);
  const report: FailureReport = cost ? { ...built, cost } : built;
  const subject = snsSubject(`sluice ${report.stage}: ${report.dataset} failed at ${report.failedStep}`);
  const messageId = await deps.notifier.publish({
    subject,
    message: formatMessage(report),
    attributes: { dataset: report.dataset, stage: report.stage, failedStep: report.failedStep, error: report.error },
    // I6, one notification per failed run (issue 21, defect 8): every attempt of this step publishes with the
    // execution as its deduplication id, so a retry after a publish SNS accepted delivers nothing new.
    deduplicationId: input.executionArn,
    group: report.dataset,
  });
  log.warn('failure notified', { failedStep: report.failedStep, error: report.error, messageId });
  return { messageId, report };
}
