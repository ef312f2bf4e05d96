/**
 * Issue 9, defects 12 and 13, and issue 10's CANCELLED Athena query.
 * - ADD PARTITION literals follow each key's declared type: "Enclose partition_col_value in string characters only
 *   if the data type of the column is a string" (https://docs.aws.amazon.com/athena/latest/ug/alter-table-add-partition.html).
 * - The ClientRequestToken carries $$.Execution.RedriveCount: a redrive reuses the execution ARN and must not be
 *   handed the earlier, failed query back.
 * - A CANCELLED query ends the wait with AthenaQueryFailedError.
 */
import {
  addPartitionsStatement,
  checkPartitionRefresh,
  clientRequestToken,
  partitionLiteral,
  startPartitionRefresh,
} from '../../domain/steps/athena';
import { datasetNamed } from '../../domain/config';
import { AthenaQueryFailedError, InvalidPartitionError, type Log } from '../../domain/common';
import { fakeWorld } from '../support/fakes';

const log: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const ARN = 'arn:aws:states:eu-west-1:1:execution:sm:e1';

describe('partition literals by key type', () => {
  test('int keys are int literals, date keys DATE literals, string keys quoted strings', () => {
    expect(partitionLiteral({ name: 'month', type: 'int' }, '01')).toBe('1');
    expect(partitionLiteral({ name: 'year', type: 'int' }, '2024')).toBe('2024');
    expect(partitionLiteral({ name: 'dt', type: 'date' }, '2024-03-01')).toBe("DATE '2024-03-01'");
    expect(partitionLiteral({ name: 'hour', type: 'string' }, '07')).toBe("'07'");
  });

  test('a value that is not of its key type is refused with the key named', () => {
    expect(() => partitionLiteral({ name: 'month', type: 'int' }, '1a')).toThrow(InvalidPartitionError);
    expect(() => partitionLiteral({ name: 'month', type: 'int' }, '1a')).toThrow(/key month/);
    expect(() => partitionLiteral({ name: 'dt', type: 'date' }, '2024-13-45')).toThrow(/key dt is not a date/);
    expect(() => partitionLiteral({ name: 'dt', type: 'date' }, '2024-02-30')).toThrow(/key dt is not a date/);
    expect(partitionLiteral({ name: 'dt', type: 'date' }, '2024-02-29')).toBe("DATE '2024-02-29'");
    expect(() => partitionLiteral({ name: 's', type: 'string' }, "it's")).toThrow(InvalidPartitionError);
  });

  test('the statement quotes only string keys; LOCATION keeps the folder spelling', () => {
    const w = fakeWorld();
    const orders = datasetNamed(w.deps.config, 'orders');
    expect(addPartitionsStatement(orders, [{ year: '2024', month: '01', day: '05' }])).toBe(
      "ALTER TABLE `orders` ADD IF NOT EXISTS\n  PARTITION (`year` = 2024, `month` = 1, `day` = 5) LOCATION 's3://curated-bucket/orders/year=2024/month=01/day=05/'",
    );
    const clicks = datasetNamed(w.deps.config, 'clicks');
    expect(addPartitionsStatement(clicks, [{ dt: '2024-03-01', hour: '07' }])).toContain(
      "PARTITION (`dt` = DATE '2024-03-01', `hour` = '07')",
    );
  });
});

describe('ClientRequestToken', () => {
  test('the same step retried gets the same token; a redrive gets another', () => {
    const sql = 'ALTER TABLE t ADD IF NOT EXISTS PARTITION (`a` = 1)';
    expect(clientRequestToken(ARN, 0, 0, sql)).toBe(clientRequestToken(ARN, 0, 0, sql));
    expect(clientRequestToken(ARN, 1, 0, sql)).not.toBe(clientRequestToken(ARN, 0, 0, sql));
    expect(clientRequestToken(ARN, 0, 0, sql)).toHaveLength(64); // Athena accepts 32..128 characters
  });

  test('a redriven registration starts a new query instead of getting the failed one back', async () => {
    const w = fakeWorld();
    const input = { dataset: 'orders', executionArn: ARN, partitions: [{ year: '2024', month: '01', day: '05' }] };
    const first = await startPartitionRefresh({ ...input, redriveCount: 0 }, w.deps, log);
    w.queries.outcome = { state: 'FAILED', reason: 'HIVE_METASTORE_ERROR' };
    await expect(
      checkPartitionRefresh({ dataset: 'orders', executionArn: ARN, refresh: first }, w.deps, log),
    ).rejects.toThrow(AthenaQueryFailedError);
    const retried = await startPartitionRefresh({ ...input, redriveCount: 0 }, w.deps, log);
    expect(retried.queryExecutionIds).toEqual(first.queryExecutionIds);
    const redriven = await startPartitionRefresh({ ...input, redriveCount: 1 }, w.deps, log);
    expect(redriven.queryExecutionIds).not.toEqual(first.queryExecutionIds);
    expect(w.queries.started).toHaveLength(2);
  });
});

test.each(['CANCELLED', 'FAILED'] as const)(
  'a %s DDL query ends the wait with AthenaQueryFailedError',
  async (state) => {
    const w = fakeWorld();
    const refresh = await startPartitionRefresh(
      { dataset: 'orders', executionArn: ARN, partitions: [{ year: '2024', month: '01', day: '05' }] },
      w.deps,
      log,
    );
    w.queries.outcome = { state, reason: 'Query cancelled' };
    const check = checkPartitionRefresh({ dataset: 'orders', executionArn: ARN, refresh }, w.deps, log);
    await expect(check).rejects.toThrow(AthenaQueryFailedError);
    await expect(check).rejects.toThrow(new RegExp(`${state}: Query cancelled`));
  },
);
