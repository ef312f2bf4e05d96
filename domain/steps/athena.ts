import { createHash } from 'node:crypto';
import type {
  CheckPartitionRefreshInput,
  PartitionKeySpec,
  PartitionValues,
  RefreshState,
  StartPartitionRefreshInput,
} from '../../schemas/types.generated';
import { datasetNamed, type ResolvedDataset } from '../config';
import { AthenaQueryFailedError, InvalidPartitionError } from '../errors';
import { assertPartition, targetPartitionPrefix } from '../partitions';
import { nextPollSeconds, secondsBetween } from '../polling';
import type { Deps, Log } from '../ports';
import { artifactsOf, readPartitionList } from '../run-inputs';

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
 * Registers the partitions in batches. Each statement carries a ClientRequestToken derived from the execution,
 * its redrive count, the batch and the statement, so a retried step gets the same query executions back instead of
 * starting new ones, and a redriven one starts fresh ones.
 */
export async function startPartitionRefresh(
  input: StartPartitionRefreshInput,
  deps: Deps,
  log: Log,
): Promise<RefreshState> {
  const dataset = datasetNamed(deps.config, input.dataset);
  const size = deps.config.athena.partitionsPerStatement;
  const queryExecutionIds: string[] = [];
  // Issue 12: the summary hands the succeeded partitions over by reference (a list object), not in the state.
  const partitions = input.succeeded
    ? await readPartitionList(artifactsOf(deps), input.succeeded)
    : (input.partitions ?? []);
  for (let i = 0; i < partitions.length; i += size) {
    const sql = addPartitionsStatement(dataset, partitions.slice(i, i + size));
    queryExecutionIds.push(
      await deps.queries.startQuery({
        sql,
        database: dataset.target.database,
        workgroup: deps.config.athena.workgroup,
        clientRequestToken: clientRequestToken(input.executionArn, input.redriveCount ?? 0, i, sql),
      }),
    );
  }
  log.info('partition registration started', {
    partitions: partitions.length,
    statements: queryExecutionIds.length,
  });
  return {
    queryExecutionIds,
    partitionCount: partitions.length,
    startedAt: deps.clock.now().toISOString(),
    done: queryExecutionIds.length === 0,
    waitSeconds: queryExecutionIds.length === 0 ? 0 : 1,
  };
}

export async function checkPartitionRefresh(
  input: CheckPartitionRefreshInput,
  deps: Deps,
  log: Log,
): Promise<RefreshState> {
  const dataset = datasetNamed(deps.config, input.dataset);
  let running = 0;
  for (const id of input.refresh.queryExecutionIds) {
    const query = await deps.queries.getQuery(id);
    if (query.state === 'FAILED' || query.state === 'CANCELLED')
      throw new AthenaQueryFailedError(`Athena query ${id} ${query.state}: ${query.reason ?? 'no reason given'}`);
    if (query.state !== 'SUCCEEDED') running += 1;
  }
  if (running === 0) {
    log.info('partitions registered', { partitions: input.refresh.partitionCount });
    return { ...input.refresh, done: true, waitSeconds: 0 };
  }
  const waitSeconds = Math.min(
    nextPollSeconds(secondsBetween(input.refresh.startedAt, deps.clock.now()), { ...dataset.polling, minSeconds: 1 }),
    dataset.polling.maxSeconds,
  );
  return { ...input.refresh, done: false, waitSeconds };
}
