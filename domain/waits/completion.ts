/**
 * Waits that cost nothing (issue 13): a Task with `.waitForTaskToken` hands its token to an await step, and the
 * Glue/Athena state-change event completes it; polling stays only as a safety net.
 *
 * Order of writes and reads (the two sides can run in any order, and either may run twice):
 *   await step:  1. record the token under each subject (single-item puts; a retry rewrites the same item)
 *                2. check the work ONCE (the same Check core the poll loop used) -> final: send, then mark sent
 *                3. still running: ask for a re-check after the fallback interval (outside the state machine)
 *   completion:  1. read the waiters of the event's subject (ConsistentRead)
 *                2. none: nothing to do. The work was final before the token existed, so the await step's own
 *                   check (step 2 above, which runs after its record) sees it final. No marker is needed: Glue's
 *                   and Athena's APIs are the record of completion, and the await reads them after writing.
 *                3. for each waiter not yet answered: check ONCE (events can be out of order, and a FAILED
 *                   event must not be trusted over the API) -> final: send, then mark sent
 * Whichever of the two comes second sees the other's write, so a final state is never missed; both may send.
 * A second SendTaskSuccess/Failure for one token is refused with TaskTimedOut ("already closed"), which is
 * logged and treated as done. Marking `sent` after the send (never before) means a crash between the two
 * can cause one extra send, never a lost one.
 *
 * AWS behaviour relied on, with sources:
 * - `arn:aws:states:::lambda:invoke.waitForTaskToken` with `Payload.taskToken.$: $$.Task.Token`: the Task waits for
 *   SendTaskSuccess/SendTaskFailure; the Lambda's own return value is ignored.
 *   https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html ("Invoke an AWS Lambda function with
 *   Step Functions", callback example) and https://docs.aws.amazon.com/step-functions/latest/dg/sfn-stuck-execution.html
 *   (a callback without TimeoutSeconds/HeartbeatSeconds can wait forever; expiry fails the Task with States.Timeout,
 *   or States.HeartbeatTimeout when HeartbeatSeconds is set).
 * - SendTaskSuccess/SendTaskFailure errors: InvalidToken, TaskDoesNotExist, TaskTimedOut ("the task token has either
 *   expired or the task associated with the token has already been closed"), InvalidOutput (success only).
 *   https://docs.aws.amazon.com/botocore/latest/reference/services/stepfunctions/client/exceptions/TaskTimedOut.html,
 *   https://docs.aws.amazon.com/sdkfornet/v3/apidocs/items/StepFunctions/MStepFunctionsSendTaskSuccessAsyncSendTaskSuccessRequestCancellationToken.html
 * - Events are best effort and may be out of order or missing:
 *   https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html (Glue Job State Change
 *   for SUCCEEDED, FAILED, TIMEOUT, STOPPED; Glue Crawler State Change for Started, Succeeded, Failed),
 *   https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-glue.html ("Delivery type: Best effort"),
 *   https://docs.aws.amazon.com/athena/latest/ug/athena-events.html (Athena Query State Change: currentState,
 *   previousState, queryExecutionId, workgroupName, statementType; "emitted on a best effort basis"; be ready for
 *   unknown properties), https://docs.aws.amazon.com/athena/latest/APIReference/API_QueryExecutionStatus.html
 *   (RUNNING can go back to QUEUED; FAILED is terminal).
 */
import { createHash } from 'node:crypto';
import type {
  AwaitCrawlerInput,
  AwaitJobRunInput,
  AwaitOutput,
  AwaitPartitionRefreshInput,
  CompletionReport,
  Delivery,
  JobRunState,
  RecheckWaitMessage,
  WaitStateChangeEvent,
} from '../../schemas/types.generated';
import { datasetNamed, recheckDelaySeconds, secondsBetween } from '../config';
import { errorMessage, InvalidInputError, SluiceError, type Log } from '../common';
import { jobRowMetrics, stepMetrics } from '../metrics';
import type { Deps } from '../deps';
import { checkCrawler, checkJobRun, checkPartitionRefresh, queryFinished, waveFinished } from '../steps';
import type { WaitCheck, WaitDeps, WaitRecord } from './ports';

/** SendTaskFailure: error <= 256 characters, cause <= 32,768 (API reference, SendTaskFailure request parameters). */
const MAX_ERROR_CHARS = 256;
const MAX_CAUSE_CHARS = 32_768;

export const jobSubject = (jobName: string, runId: string): string => `job#${jobName}#${runId}`;
export const crawlerSubject = (crawlerName: string): string => `crawler#${crawlerName}`;
export const querySubject = (queryExecutionId: string): string => `query#${queryExecutionId}`;

const digest = (...parts: string[]): string => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 40);

/** The subjects whose events can end this wait. */
export function subjectsOf(check: WaitCheck, deps: Deps): string[] {
  switch (check.kind) {
    case 'job':
      return [jobSubject(datasetNamed(deps.config, check.input.dataset).job.name, check.input.job.runId)];
    case 'crawler':
      return [crawlerSubject(check.input.crawl.crawlerName)];
    case 'refresh':
      return check.input.refresh.queryExecutionIds.map(querySubject);
  }
}

/** One waiter per (kind, execution, thing awaited): the same Task re-awaiting after a timeout keeps its id. */
export function waiterIdOf(check: WaitCheck): string {
  switch (check.kind) {
    case 'job':
      return `job-${check.input.job.runKey}`;
    case 'crawler':
      return `crawler-${digest(check.input.executionArn, check.input.crawl.crawlerName, check.input.crawl.requestedAt)}`;
    case 'refresh':
      return `refresh-${digest(check.input.executionArn, ...check.input.refresh.queryExecutionIds)}`;
  }
}

/** When the awaited work began: the base of the fallback interval. */
function startedAtOf(check: WaitCheck): string {
  switch (check.kind) {
    case 'job':
      return check.input.job.startedAt;
    case 'crawler':
      return check.input.crawl.startedAt ?? check.input.crawl.requestedAt;
    case 'refresh':
      return check.input.refresh.startedAt;
  }
}

function datasetOf(check: WaitCheck): string {
  return check.input.dataset;
}

interface CheckVerdict {
  done: boolean;
  /** Exactly what the Check step returns today: it becomes the Task's output on SendTaskSuccess. */
  output: unknown;
}

/** The one API call (per query for a refresh) that decides: the Check cores of the poll loop, unchanged. */
export async function runCheck(check: WaitCheck, deps: Deps, log: Log): Promise<CheckVerdict> {
  switch (check.kind) {
    case 'job': {
      // Without `metrics`: checkJobRun records a SUCCEEDED run's rows when it reads them, and every delivery of a
      // wait reads them (two deliveries side by side, a late event after the heartbeat's own Check). Only the
      // delivery whose SendTaskSuccess is accepted records them (recordCheckMetrics), so they count once.
      const output = await checkJobRun(check.input, { ...deps, metrics: undefined }, log);
      return { done: output.done, output };
    }
    case 'crawler': {
      const output = await checkCrawler(check.input, deps, log);
      return { done: output.done, output };
    }
    case 'refresh': {
      const output = await checkPartitionRefresh(check.input, deps, log);
      return { done: output.done, output };
    }
  }
}

const CHECK_STEP: Record<WaitCheck['kind'], string> = {
  job: 'checkJobRun',
  crawler: 'checkCrawler',
  refresh: 'checkPartitionRefresh',
};

/**
 * The metrics the Check step's output implies (job duration, partitions queryable), recorded here because with a
 * token wait that output reaches the state machine through SendTaskSuccess, not through a step handler. Only the
 * delivery that closed the token records them, so a duplicate event or a late fallback counts nothing twice.
 */
function recordCheckMetrics(check: WaitCheck, output: unknown, deps: Deps): void {
  if (!deps.metrics) return;
  const executionArn = String((check.input as { executionArn?: unknown }).executionArn ?? '');
  deps.metrics.record(stepMetrics(CHECK_STEP[check.kind], check.input, output, deps.clock.now()), executionArn);
  const rows = check.kind === 'job' ? (output as JobRunState).result?.rows : undefined;
  if (rows) deps.metrics.record(jobRowMetrics(check.input.dataset, rows), executionArn);
}

const clip = (text: string, limit: number): string => (text.length <= limit ? text : `${text.slice(0, limit - 1)}…`);

const queryIdOf = (subject: string): string => subject.slice('query#'.length);

/**
 * A partition refresh waits on a wave of queries (issue 23). A completion event checks only its own query
 * (`only`); the await step and the fallback re-check look at every query of the wave not yet known final. Whoever
 * sees a query SUCCEEDED adds it to the waiter's final subjects in one atomic write that returns them all: of two
 * deliveries that each saw one query end, the second write returns both, so the end of the wave is never missed,
 * and no event costs more than one GetQueryExecution.
 */
async function checkRefreshWave(
  record: WaitRecord,
  deps: Deps,
  waitDeps: WaitDeps,
  log: Log,
  only: string | undefined,
): Promise<CheckVerdict> {
  if (record.check.kind !== 'refresh') throw new InvalidInputError('not a partition refresh wait');
  const input = record.check.input;
  const final = new Set(only ? [] : await waitDeps.waits.finalSubjects(record));
  for (const subject of only ? [only] : record.subjects.filter((s) => !final.has(s))) {
    if (!(await queryFinished(queryIdOf(subject), deps))) continue;
    for (const s of await waitDeps.waits.markFinal(record, subject, deps.clock.now())) final.add(s);
  }
  if (record.subjects.some((s) => !final.has(s))) return { done: false, output: { ...input.refresh, done: false } };
  const output = waveFinished(input.refresh);
  log.info(output.done ? 'partitions registered' : 'registration wave finished', {
    partitions: output.partitionCount,
    startedStatements: output.startedStatements,
    statements: output.statementCount,
  });
  return { done: true, output };
}

/**
 * Checks once and answers the token if the work is final. A fatal check error (e.g. CrawlerFailedError) becomes
 * SendTaskFailure with the error's name, so the ASL's Catch sees what it saw from the Check step. A retryable one
 * propagates: the caller is retried, and the fallback covers the rest.
 */
export async function deliver(
  record: WaitRecord,
  deps: Deps,
  waitDeps: WaitDeps,
  log: Log,
  only?: string,
): Promise<Delivery> {
  let delivery: Delivery = 'still-running';
  let verdict: CheckVerdict | undefined;
  try {
    verdict =
      record.check.kind === 'refresh'
        ? await checkRefreshWave(record, deps, waitDeps, log, only)
        : await runCheck(record.check, deps, log);
  } catch (error) {
    if (error instanceof SluiceError && error.retryable) throw error;
    const name = error instanceof Error ? error.name : 'Error';
    delivery = await waitDeps.tokens.fail(
      record.taskToken,
      clip(name, MAX_ERROR_CHARS),
      clip(errorMessage(error), MAX_CAUSE_CHARS),
    );
  }
  if (verdict) {
    if (!verdict.done) return 'still-running';
    // Only the check's own errors become SendTaskFailure. An error of SendTaskSuccess itself (a refused
    // connection, a reset, a throttle) propagates: the caller is retried and sends the true result again, so a
    // successful job is never reported failed (issue 21, defect 9).
    delivery = await waitDeps.tokens.succeed(record.taskToken, verdict.output);
    if (delivery === 'sent') recordCheckMetrics(record.check, verdict.output, deps);
  }
  if (delivery === 'sent') log.info('wait completed', { waiterId: record.waiterId, subject: record.subject });
  else log.warn('task token already closed; nothing to complete', { waiterId: record.waiterId, delivery });
  await waitDeps.waits.markSent(record, delivery, deps.clock.now());
  return delivery;
}

async function scheduleRecheck(record: WaitRecord, deps: Deps, waitDeps: WaitDeps): Promise<number> {
  const policy = datasetNamed(deps.config, datasetOf(record.check)).polling;
  const delay = recheckDelaySeconds(secondsBetween(startedAtOf(record.check), deps.clock.now()), policy);
  await waitDeps.rechecks.recheckLater({ subject: record.subject, waiterId: record.waiterId }, delay);
  return delay;
}

/** The await step: record the token, then check once; if still running, leave it to the event (and the fallback). */
export async function awaitCompletion(
  check: WaitCheck,
  taskToken: string,
  deps: Deps,
  waitDeps: WaitDeps,
  log: Log,
): Promise<AwaitOutput> {
  const [first, ...rest] = subjectsOf(check, deps);
  if (first === undefined)
    throw new InvalidInputError('a wait needs at least one subject (a refresh with no queries?)');
  const subjects: [string, ...string[]] = [first, ...rest];
  const waiterId = waiterIdOf(check);
  const recordedAt = deps.clock.now().toISOString();
  await waitDeps.waits.recordWait({ waiterId, taskToken, check, subjects, recordedAt }, deps.clock.now());
  const record: WaitRecord = { subject: first, waiterId, taskToken, check, subjects, recordedAt };
  const delivery = await deliver(record, deps, waitDeps, log);
  if (delivery !== 'still-running') return { subjects, waiterId, delivery };
  const recheckInSeconds = await scheduleRecheck(record, deps, waitDeps);
  log.info('waiting for a state-change event', { waiterId, subjects, recheckInSeconds });
  return { subjects, waiterId, delivery, recheckInSeconds };
}

export const awaitJobRun = (input: AwaitJobRunInput, deps: Deps, waitDeps: WaitDeps, log: Log) => {
  const { taskToken, ...check } = input;
  return awaitCompletion({ kind: 'job', input: check }, taskToken, deps, waitDeps, log);
};

export const awaitCrawler = (input: AwaitCrawlerInput, deps: Deps, waitDeps: WaitDeps, log: Log) => {
  const { taskToken, ...check } = input;
  return awaitCompletion({ kind: 'crawler', input: check }, taskToken, deps, waitDeps, log);
};

export const awaitPartitionRefresh = (input: AwaitPartitionRefreshInput, deps: Deps, waitDeps: WaitDeps, log: Log) => {
  const { taskToken, ...check } = input;
  return awaitCompletion({ kind: 'refresh', input: check }, taskToken, deps, waitDeps, log);
};

/** Athena states that are not final; RUNNING may even go back to QUEUED (API_QueryExecutionStatus). */
const ATHENA_NOT_FINAL = new Set(['QUEUED', 'RUNNING']);

/** The subject an event is about, or why it needs no look-up. */
export function subjectOfEvent(event: WaitStateChangeEvent): { subject: string } | { ignored: string } {
  switch (event['detail-type']) {
    case 'Glue Job State Change':
      return { subject: jobSubject(event.detail.jobName, event.detail.jobRunId) };
    case 'Glue Crawler State Change':
      return event.detail.state === 'Started'
        ? { ignored: 'a crawl started; only its end completes a wait' }
        : { subject: crawlerSubject(event.detail.crawlerName) };
    case 'Athena Query State Change':
      return ATHENA_NOT_FINAL.has(event.detail.currentState)
        ? { ignored: `query is ${event.detail.currentState}` }
        : { subject: querySubject(event.detail.queryExecutionId) };
  }
}

async function completeWaiter(
  record: WaitRecord,
  deps: Deps,
  waitDeps: WaitDeps,
  log: Log,
  only?: string,
): Promise<Delivery> {
  if (record.sentAt) {
    log.info('duplicate completion: this token was already answered', { waiterId: record.waiterId });
    return 'already-sent';
  }
  return deliver(record, deps, waitDeps, log, only);
}

/** The completion Lambda's core: one state-change event -> every waiter of its subject answered (or left waiting). */
export async function completeFromEvent(
  event: WaitStateChangeEvent,
  deps: Deps,
  waitDeps: WaitDeps,
  log: Log,
): Promise<CompletionReport> {
  const target = subjectOfEvent(event);
  if ('ignored' in target) return { subject: '', deliveries: [], ignored: target.ignored };
  const waiters = await waitDeps.waits.waitersOf(target.subject);
  if (waiters.length === 0) {
    // Not ours, or the await step has not recorded yet: its own check after recording covers that order.
    log.info('no waiter for this event', { subject: target.subject });
    return { subject: target.subject, deliveries: [], ignored: 'no waiter recorded for this subject' };
  }
  const deliveries = [];
  for (const record of waiters)
    // The event names one subject: a refresh checks that query only (issue 23); the others count by the waiter's
    // final subjects.
    deliveries.push({
      waiterId: record.waiterId,
      delivery: await completeWaiter(record, deps, waitDeps, log, target.subject),
    });
  return { subject: target.subject, deliveries };
}

/**
 * The fallback poll outside the state machine: check one waiter again; still running -> heartbeat, and again later.
 * A lost event therefore costs one Lambda call per fallback interval and no state transition.
 */
export async function recheckWait(
  message: RecheckWaitMessage,
  deps: Deps,
  waitDeps: WaitDeps,
  log: Log,
): Promise<CompletionReport> {
  const record = await waitDeps.waits.waiter(message.subject, message.waiterId);
  if (!record) {
    log.warn('re-check for a waiter that is not recorded', { ...message });
    return { subject: message.subject, deliveries: [{ waiterId: message.waiterId, delivery: 'no-waiter' }] };
  }
  const delivery = await completeWaiter(record, deps, waitDeps, log);
  if (delivery !== 'still-running')
    return { subject: message.subject, deliveries: [{ waiterId: message.waiterId, delivery }] };
  // Still running: tell Step Functions the safety net is alive (resets HeartbeatSeconds), then look again later.
  const beat = await waitDeps.tokens.heartbeat(record.taskToken);
  if (beat !== 'sent') {
    log.warn('task token closed while its work is still running; re-checks stop', { waiterId: record.waiterId, beat });
    await waitDeps.waits.markSent(record, beat, deps.clock.now());
    return { subject: message.subject, deliveries: [{ waiterId: message.waiterId, delivery: beat }] };
  }
  await scheduleRecheck(record, deps, waitDeps);
  return { subject: message.subject, deliveries: [{ waiterId: message.waiterId, delivery }] };
}
