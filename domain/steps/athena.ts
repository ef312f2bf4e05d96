import { createHash } from 'node:crypto';
import type {
  CheckPartitionRefreshInput,
  PartitionKeySpec,
  PartitionValues,
  RefreshState,
  StartPartitionRefreshInput,
} from '../../schemas/types.generated';
import {
  datasetNamed,
  type ResolvedDataset,
  assertPartition,
  targetPartitionPrefix,
  nextPollSeconds,
  secondsBetween,
} from '../config';
import {
  AthenaQueryFailedError,
  AwsThrottledError,
  InvalidInputError,
  InvalidPartitionError,
  type Log,
} from '../common';
import type { Deps } from '../deps';
import { artifactsOf, readPartitionList } from '../inputs';

/**
 * DDL cannot take parameters: values are pattern-checked by assertPartition, and each literal is checked again
 * against its key's declared type here. Athena: "Enclose partition_col_value in string characters only if the data
 * type of the column is a string" (https://docs.aws.amazon.com/athena/latest/ug/alter-table-add-partition.html).
 * A `date` key takes Hive's date literal, DATE 'yyyy-mm-dd'.
 */
export function partitionLiteral(key: Pick<PartitionKeySpec, 'name' | 'type'>, value: string): string {
  const refuse = (why: string) =>
    new InvalidPartitionError(`partition value ${JSON.stringify(value)} of key ${key.name} ${why}`);
  switch (key.type) {
    case 'int':
      if (!/^-?[0-9]{1,18}$/.test(value)) throw refuse('is not an int');
      return BigInt(value).toString();
    case 'date':
      if (!isCalendarDate(value)) throw refuse('is not a date (yyyy-mm-dd)');
      return `DATE '${value}'`;
    case 'string':
      return stringLiteral(value, refuse);
  }
}

/** yyyy-mm-dd naming a real day (Date.parse would roll 2024-02-30 over to March 1). */
function isCalendarDate(value: string): boolean {
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(value)) return false;
  const time = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === value;
}

function stringLiteral(value: string, refuse: (why: string) => Error = (why) => new InvalidPartitionError(why)) {
  if (/['\\\n\r]/.test(value)) throw refuse('cannot be put in DDL');
  return `'${value}'`;
}

export function addPartitionsStatement(dataset: ResolvedDataset, partitions: PartitionValues[]): string {
  const clauses = partitions.map((raw) => {
    const p = assertPartition(dataset, raw);
    const spec = dataset.partitioning.keys
      .map((k) => `\`${k.name}\` = ${partitionLiteral(k, p[k.name] ?? '')}`)
      .join(', ');
    const location = stringLiteral(
      `s3://${dataset.target.bucket}/${targetPartitionPrefix(dataset, p)}`,
      (why) => new InvalidPartitionError(`partition location ${why}`),
    );
    return `  PARTITION (${spec}) LOCATION ${location}`;
  });
  return `ALTER TABLE \`${dataset.target.table}\` ADD IF NOT EXISTS\n${clauses.join('\n')}`;
}

/**
 * The ClientRequestToken of one statement. The same step retried (a Lambda timeout after the query started) gets
 * the same token and so the same query back. A redrive reuses the execution ARN, so the token also carries
 * $$.Execution.RedriveCount: otherwise the redriven step would be handed the earlier, failed query.
 */
export function clientRequestToken(executionArn: string, redriveCount: number, batchStart: number, sql: string) {
  return createHash('sha256').update(`${executionArn}\n${redriveCount}\n${batchStart}\n${sql}`).digest('hex');
}

/**
 * Issue 23: how a start that Athena refuses for the quota is retried inside the step, before the step fails with
 * AwsThrottledError and the ASL's Retry (backoff with jitter) runs it again. Every statement of a wave carries its
 * ClientRequestToken, so a retry gets the queries it already started back and starts only the rest.
 * TooManyRequestsException: the Active DDL queries quota counts queued queries too; "if your DML query quota is 25
 * and your total of running and queued queries is 26, query 26 will result in a TooManyRequestsException error"
 * (https://docs.aws.amazon.com/athena/latest/ug/service-limits.html). The SDK's standard retry already retries it
 * (it is one of its throttling codes) three times; this adds a longer, jittered backoff on top.
 */
export const registrationRetry = {
  attempts: 4,
  baseMs: 1_000,
  sleep: (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

async function withThrottleRetry<T>(what: string, attempt: () => Promise<T>, log: Log): Promise<T> {
  for (let tries = 1; ; tries += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof AwsThrottledError) || tries >= registrationRetry.attempts) throw error;
      // Full jitter: a random wait up to base x 2^(try-1) (the ASL's JitterStrategy FULL does the same).
      const ms = Math.round(registrationRetry.random() * registrationRetry.baseMs * 2 ** (tries - 1));
      log.warn('Athena refused a start (quota); retrying after a backoff', { what, tries, backoffMs: ms });
      await registrationRetry.sleep(ms);
    }
  }
}

/** The statements of a registration: `size` partitions each, in the list's order (so a wave's tokens are stable). */
function statementsOf(dataset: ResolvedDataset, partitions: PartitionValues[], size: number) {
  const statements: Array<{ batchStart: number; sql: string }> = [];
  for (let i = 0; i < partitions.length; i += size)
    statements.push({ batchStart: i, sql: addPartitionsStatement(dataset, partitions.slice(i, i + size)) });
  return statements;
}

/**
 * Registers the partitions in waves (issue 23). A wave is at most `athena.maxActiveDdl` statements, and the next
 * wave starts only once every query of this one has SUCCEEDED (`waveDone`), so the run never has more than that
 * many DDL queries active (queued or running), whatever the partition count. Each statement carries a
 * ClientRequestToken derived from the execution, its redrive count, the batch and the statement, so a retried
 * step gets the same query executions back instead of starting new ones, and a redriven one starts fresh ones.
 * With `refresh` (the state's "Start the next registration wave"), it starts the wave after `startedStatements`.
 */
export async function startPartitionRefresh(
  input: StartPartitionRefreshInput,
  deps: Deps,
  log: Log,
): Promise<RefreshState> {
  const dataset = datasetNamed(deps.config, input.dataset);
  const size = deps.config.athena.partitionsPerStatement;
  // Issue 12: the summary hands the succeeded partitions over by reference (a list object), not in the state.
  const partitions = input.succeeded
    ? await readPartitionList(artifactsOf(deps), input.succeeded)
    : (input.partitions ?? []);
  const statements = statementsOf(dataset, partitions, size);
  const previous = input.refresh;
  if (previous && previous.waveDone !== true)
    throw new InvalidInputError('the next registration wave starts only after every query of the last one succeeded');
  const from = previous?.startedStatements ?? 0;
  const wave = statements.slice(from, from + deps.config.athena.maxActiveDdl);
  const queryExecutionIds: string[] = [];
  for (const { batchStart, sql } of wave)
    queryExecutionIds.push(
      await withThrottleRetry(
        `statement at ${batchStart}`,
        () =>
          deps.queries.startQuery({
            sql,
            database: dataset.target.database,
            workgroup: deps.config.athena.workgroup,
            clientRequestToken: clientRequestToken(input.executionArn, input.redriveCount ?? 0, batchStart, sql),
          }),
        log,
      ),
    );
  const startedStatements = from + wave.length;
  log.info('partition registration wave started', {
    partitions: partitions.length,
    statements: statements.length,
    wave: queryExecutionIds.length,
    startedStatements,
  });
  const done = queryExecutionIds.length === 0;
  return {
    queryExecutionIds,
    partitionCount: partitions.length,
    startedAt: previous?.startedAt ?? deps.clock.now().toISOString(),
    done,
    waitSeconds: done ? 0 : 1,
    statementCount: statements.length,
    startedStatements,
    waveDone: done,
  };
}

/** What one query's state means for the registration: fatal if it failed, else whether it is over. */
export async function queryFinished(id: string, deps: Pick<Deps, 'queries'>): Promise<boolean> {
  const query = await deps.queries.getQuery(id);
  if (query.state === 'FAILED' || query.state === 'CANCELLED')
    throw new AthenaQueryFailedError(`Athena query ${id} ${query.state}: ${query.reason ?? 'no reason given'}`);
  return query.state === 'SUCCEEDED';
}

/** The refresh once every query of its wave succeeded: done, or ready for the next wave. */
export function waveFinished(refresh: RefreshState): RefreshState {
  const done = (refresh.startedStatements ?? 0) >= (refresh.statementCount ?? 0);
  return { ...refresh, done, waveDone: true, waitSeconds: 0 };
}

/**
 * State "Check the Athena registration" (the token wait's fallback): checks the current wave's queries, at most
 * `athena.maxActiveDdl`. The token waits' completion path checks one query per event instead (domain/waits/completion.ts).
 */
export async function checkPartitionRefresh(
  input: CheckPartitionRefreshInput,
  deps: Deps,
  log: Log,
): Promise<RefreshState> {
  const dataset = datasetNamed(deps.config, input.dataset);
  let running = 0;
  for (const id of input.refresh.queryExecutionIds) if (!(await queryFinished(id, deps))) running += 1;
  if (running === 0) {
    const finished = waveFinished(input.refresh);
    log.info(finished.done ? 'partitions registered' : 'registration wave finished', {
      partitions: input.refresh.partitionCount,
      startedStatements: finished.startedStatements,
      statements: finished.statementCount,
    });
    return finished;
  }
  const waitSeconds = Math.min(
    nextPollSeconds(secondsBetween(input.refresh.startedAt, deps.clock.now()), { ...dataset.polling, minSeconds: 1 }),
    dataset.polling.maxSeconds,
  );
  return { ...input.refresh, done: false, waveDone: false, waitSeconds };
}
