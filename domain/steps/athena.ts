import { createHash } from 'node:crypto';
import type {
  CheckPartitionRefreshInput,
  PartitionValues,
  RefreshState,
  StartPartitionRefreshInput,
} from '../../schemas/types.generated';
import { datasetNamed, type ResolvedDataset } from '../config';
import { AthenaQueryFailedError, InvalidPartitionError } from '../errors';
import { assertPartition, targetPartitionPrefix } from '../partitions';
import { nextPollSeconds, secondsBetween } from '../polling';
import type { Deps, Log } from '../ports';

/** DDL cannot take parameters: values are pattern-checked by assertPartition, and quotes are refused outright. */
function literal(value: string): string {
  if (/['\\\n\r]/.test(value))
    throw new InvalidPartitionError(`partition value ${JSON.stringify(value)} cannot be put in DDL`);
  return `'${value}'`;
}

export function addPartitionsStatement(dataset: ResolvedDataset, partitions: PartitionValues[]): string {
  const clauses = partitions.map((raw) => {
    const p = assertPartition(dataset, raw);
    const spec = dataset.partitioning.keys.map((k) => `\`${k.name}\` = ${literal(p[k.name] ?? '')}`).join(', ');
    const location = literal(`s3://${dataset.target.bucket}/${targetPartitionPrefix(dataset, p)}`);
    return `  PARTITION (${spec}) LOCATION ${location}`;
  });
  return `ALTER TABLE \`${dataset.target.table}\` ADD IF NOT EXISTS\n${clauses.join('\n')}`;
}

/**
 * Registers the partitions in batches. Each statement carries a ClientRequestToken derived from the execution,
 * batch and statement, so a retried step gets the same query executions back instead of starting new ones.
 */
export async function startPartitionRefresh(
  input: StartPartitionRefreshInput,
  deps: Deps,
  log: Log,
): Promise<RefreshState> {
  const dataset = datasetNamed(deps.config, input.dataset);
  const size = deps.config.athena.partitionsPerStatement;
  const queryExecutionIds: string[] = [];
  for (let i = 0; i < input.partitions.length; i += size) {
    const sql = addPartitionsStatement(dataset, input.partitions.slice(i, i + size));
    const clientRequestToken = createHash('sha256').update(`${input.executionArn}\n${i}\n${sql}`).digest('hex');
    queryExecutionIds.push(
      await deps.queries.startQuery({
        sql,
        database: dataset.target.database,
        workgroup: deps.config.athena.workgroup,
        clientRequestToken,
      }),
    );
  }
  log.info('partition registration started', {
    partitions: input.partitions.length,
    statements: queryExecutionIds.length,
  });
  return {
    queryExecutionIds,
    partitionCount: input.partitions.length,
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
