/**
 * Partitions: parsing them out of raw S3 keys, validating values against the dataset's strict patterns,
 * and rendering target locations. A key that does not match its layout is rejected with a reason, never guessed.
 */
import type { PartitionValues } from '../../schemas/types.generated';
import type { ResolvedConfig, ResolvedDataset } from './config';
import { InvalidPartitionError } from '../common';

export type ParsedKey =
  | { ok: true; dataset: ResolvedDataset; partition: PartitionValues; objectKey: string }
  | { ok: false; reason: string; dataset?: string };

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Throws InvalidPartitionError unless the partition has exactly the dataset's keys, each matching its pattern. */
export function assertPartition(dataset: ResolvedDataset, partition: PartitionValues): PartitionValues {
  const expected = dataset.partitioning.keys.map((k) => k.name);
  const given = Object.keys(partition);
  const extra = given.find((k) => !expected.includes(k));
  if (extra)
    throw new InvalidPartitionError(
      `partition key '${extra}' is not a key of dataset '${dataset.name}' (${expected.join(', ')})`,
    );
  const ordered: PartitionValues = {};
  for (const key of dataset.partitioning.keys) {
    const value = partition[key.name];
    if (value === undefined)
      throw new InvalidPartitionError(`partition of dataset '${dataset.name}' lacks key '${key.name}'`);
    if (!new RegExp(key.pattern).test(value))
      throw new InvalidPartitionError(
        `partition value ${key.name}=${JSON.stringify(value)} of dataset '${dataset.name}' does not match ${key.pattern}`,
      );
    ordered[key.name] = value;
  }
  return ordered;
}

/** Canonical text form, also the Hive path: `year=2024/month=01/day=05`. Stable key order from the config. */
export function partitionKey(dataset: ResolvedDataset, partition: PartitionValues): string {
  return dataset.partitioning.keys.map((k) => `${k.name}=${partition[k.name] ?? ''}`).join('/');
}

export function partitionFromKey(dataset: ResolvedDataset, key: string): PartitionValues {
  const values: PartitionValues = {};
  for (const part of key.split('/')) {
    const [name = '', ...rest] = part.split('=');
    values[name] = rest.join('=');
  }
  return assertPartition(dataset, values);
}

function fill(template: string, partition: PartitionValues): string {
  return template.replace(/\{([a-z][a-z0-9_]*)\}/g, (_, name: string) => partition[name] ?? '');
}

/** Raw folder of one partition, relative to the raw bucket. */
export function rawPartitionPrefix(dataset: ResolvedDataset, partition: PartitionValues): string {
  return dataset.raw.prefix + fill(dataset.partitioning.template, partition);
}

/** Curated folder of one partition, relative to the curated bucket. */
export function targetPartitionPrefix(dataset: ResolvedDataset, partition: PartitionValues): string {
  return fill(dataset.target.locationTemplate, partition);
}

function layoutRegExp(dataset: ResolvedDataset): RegExp {
  // Each placeholder captures one path segment's worth of characters; the key's own pattern is checked after.
  const body = dataset.partitioning.template
    .split(/(\{[a-z][a-z0-9_]*\})/)
    .map((piece) => {
      const m = /^\{([a-z][a-z0-9_]*)\}$/.exec(piece);
      return m ? `(?<${m[1]}>[^/]+)` : escapeRegExp(piece);
    })
    .join('');
  return new RegExp(`^${escapeRegExp(dataset.raw.prefix)}${body}(?<file>.+)$`);
}

const layoutCache = new WeakMap<ResolvedDataset, RegExp>();

/**
 * Maps a decoded S3 key of the raw bucket to its dataset and partition, or says why it cannot.
 */
export function parseRawKey(config: ResolvedConfig, key: string): ParsedKey {
  if (key.endsWith('/')) return { ok: false, reason: 'folder marker (key ends with /), not data' };
  if (key.split('/').some((segment) => segment === '..' || segment === '.'))
    return { ok: false, reason: "key has a '.' or '..' path segment" };
  const dataset = config.datasets.find((d) => key.startsWith(d.raw.prefix));
  if (!dataset) return { ok: false, reason: 'key is outside every dataset prefix' };
  let layout = layoutCache.get(dataset);
  if (!layout) {
    layout = layoutRegExp(dataset);
    layoutCache.set(dataset, layout);
  }
  const match = layout.exec(key);
  if (!match?.groups)
    return {
      ok: false,
      dataset: dataset.name,
      reason: `key does not follow the layout ${dataset.raw.prefix}${dataset.partitioning.template}<file>`,
    };
  const file = match.groups.file ?? '';
  if (file.includes('/'))
    return { ok: false, dataset: dataset.name, reason: 'key is nested below the partition folder' };
  const base = file.split('/').pop() ?? '';
  if (base.startsWith('_') || base.startsWith('.'))
    return { ok: false, dataset: dataset.name, reason: `hidden or marker file '${base}' is not data` };
  const raw: PartitionValues = {};
  for (const k of dataset.partitioning.keys) raw[k.name] = match.groups[k.name] ?? '';
  try {
    return { ok: true, dataset, partition: assertPartition(dataset, raw), objectKey: key };
  } catch (error) {
    return { ok: false, dataset: dataset.name, reason: (error as Error).message };
  }
}
