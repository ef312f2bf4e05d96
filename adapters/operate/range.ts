/**
 * `backfill --from --to`: the range input of the scale issue (a `range` per key, expanded by a step) when the
 * deployed execution-input schema accepts it; until then the same range is expanded here, by the same code
 * (domain/inputs/partition-range.ts), into the explicit partition list today's input takes (ManualRunInput.partitions,
 * at most 5,000, schemas/execution-input.schema.json).
 */
import { type ResolvedDataset, assertPartition, partitionFromKey } from '../../domain/config';
import { expandRange, MAX_RANGE_PARTITIONS } from '../../domain/inputs';
import { validatorFor } from '../../domain/common';
import type { ExecutionInput, PartitionValues } from '../../schemas/types.generated';

/** ManualRunInput.partitions maxItems in schemas/execution-input.schema.json. */
export const MAX_PARTITIONS_PER_EXECUTION = 5000;

export class BackfillRangeError extends Error {
  override name = 'BackfillRangeError';
}

/** `year=2024/month=01/day=05` (the form `status` and `runs` print) or `{"year":"2024",...}`. */
export function parsePartitionArg(dataset: ResolvedDataset, text: string, flag: string): PartitionValues {
  try {
    if (text.trim().startsWith('{')) return assertPartition(dataset, JSON.parse(text) as PartitionValues);
    return partitionFromKey(dataset, text.replace(/^\/+|\/+$/g, ''));
  } catch (error) {
    throw new BackfillRangeError(`${flag} ${JSON.stringify(text)}: ${(error as Error).message}`);
  }
}

export interface BackfillInput {
  input: ExecutionInput;
  partitions: number;
  /** true: the range was expanded here because the execution input does not take a range yet. */
  expandedClientSide: boolean;
}

export function backfillInput(
  dataset: ResolvedDataset,
  from: PartitionValues,
  to: PartitionValues,
  skipCrawler: boolean,
): BackfillInput {
  const rangeInput = { dataset: dataset.name, range: { from, to }, skipCrawler };
  const rangeAccepted = validatorFor('ExecutionInput')(rangeInput);
  // Expanded here too, by the same code as the first step, so a bad range fails before anything starts and the
  // progress display knows the count. A range input is bounded by the range limit, an explicit list by its schema.
  let partitions: PartitionValues[];
  try {
    partitions = expandRange(
      dataset,
      { from, to },
      rangeAccepted ? MAX_RANGE_PARTITIONS : MAX_PARTITIONS_PER_EXECUTION,
    );
  } catch (error) {
    throw new BackfillRangeError(`--from/--to: ${(error as Error).message}`);
  }
  if (rangeAccepted)
    return { input: rangeInput as unknown as ExecutionInput, partitions: partitions.length, expandedClientSide: false };
  return {
    input: { dataset: dataset.name, partitions: partitions as [PartitionValues, ...PartitionValues[]], skipCrawler },
    partitions: partitions.length,
    expandedClientSide: true,
  };
}
