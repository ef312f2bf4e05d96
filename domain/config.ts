/**
 * Dataset configuration is data: one JSON file per stage (`config/<stage>.json`), validated once at load
 * against `schemas/dataset-config.schema.json` plus the cross-field rules a schema cannot express.
 */
import { readFileSync } from 'node:fs';
import type {
  ColumnMapping,
  DatasetConfig,
  PartitionKeySpec,
  PollingPolicy,
  SluiceConfig,
} from '../schemas/types.generated';
import { ConfigError, UnknownDatasetError } from './errors';
import { validate } from './validation';

export interface ResolvedDataset {
  name: string;
  raw: { bucket: string; prefix: string; format: 'csv' | 'json' | 'parquet' };
  partitioning: { style: 'hive' | 'template'; template: string; keys: PartitionKeySpec[] };
  crawler: { name: string; recrawl: 'new-folders-only' | 'everything' };
  job: {
    name: string;
    maxConcurrentRuns: number;
    timeoutMinutes: number;
    maxBadRowsFraction: number;
    arguments: Record<string, string>;
  };
  target: { bucket: string; database: string; table: string; locationTemplate: string };
  mapping: ColumnMapping[];
  debounce: { quietSeconds: number; maxWaitSeconds: number };
  fanOut: { maxConcurrency: number };
  polling: Required<PollingPolicy>;
}

export interface ResolvedConfig {
  stage: string;
  region: string;
  lake: { rawBucket: string; curatedBucket: string };
  athena: { workgroup: string; partitionsPerStatement: number };
  deploy: {
    alarmEmail?: string;
    logRetentionDays: number;
    retainData: boolean;
    catchUpSchedule?: string;
    glueWorkerType: string;
    glueWorkers: number;
  };
  datasets: ResolvedDataset[];
}

const PLACEHOLDER = /\{([a-z][a-z0-9_]*)\}/g;

function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
}

function checkDataset(d: DatasetConfig, at: string): void {
  const keyNames = d.partitioning.keys.map((k) => k.name);
  const duplicateKey = keyNames.find((k, i) => keyNames.indexOf(k) !== i);
  if (duplicateKey) throw new ConfigError(`${at}/partitioning/keys has '${duplicateKey}' twice`);
  d.partitioning.keys.forEach((k, i) => {
    try {
      new RegExp(k.pattern);
    } catch (error) {
      throw new ConfigError(`${at}/partitioning/keys/${i}/pattern is not a valid regular expression: ${String(error)}`);
    }
  });
  if (d.partitioning.style === 'template') {
    if (!d.partitioning.template)
      throw new ConfigError(`${at}/partitioning/template is required when style is 'template'`);
    const used = placeholders(d.partitioning.template);
    if (used.join('/') !== keyNames.join('/'))
      throw new ConfigError(
        `${at}/partitioning/template must use every key once, in order (${keyNames.join(', ')}); it uses ${used.join(', ')}`,
      );
  } else if (d.partitioning.template !== undefined) {
    throw new ConfigError(`${at}/partitioning/template is only allowed when style is 'template'`);
  }
  const targetKeys = placeholders(d.target.locationTemplate);
  const unknown = targetKeys.find((k) => !keyNames.includes(k));
  if (unknown) throw new ConfigError(`${at}/target/locationTemplate uses {${unknown}}, which is not a partition key`);
  const missing = keyNames.find((k) => !targetKeys.includes(k));
  if (missing)
    throw new ConfigError(
      `${at}/target/locationTemplate must place every partition key; {${missing}} is missing, so partitions would overwrite each other`,
    );
  const targets = d.mapping.map((m) => m.target);
  const dupTarget = targets.find((t, i) => targets.indexOf(t) !== i);
  if (dupTarget) throw new ConfigError(`${at}/mapping targets '${dupTarget}' twice`);
  const clash = targets.find((t) => keyNames.includes(t));
  if (clash) throw new ConfigError(`${at}/mapping target '${clash}' clashes with a partition key of the same name`);
  const maxConcurrency = d.fanOut?.maxConcurrency ?? 10;
  const maxRuns = d.job?.maxConcurrentRuns ?? 10;
  if (maxConcurrency > maxRuns)
    throw new ConfigError(
      `${at}/fanOut/maxConcurrency (${maxConcurrency}) is above ${at}/job/maxConcurrentRuns (${maxRuns}); runs past the job's limit would only fail with ConcurrentRunsExceededException`,
    );
  const polling = d.polling ?? {};
  if ((polling.minSeconds ?? 15) > (polling.maxSeconds ?? 300))
    throw new ConfigError(`${at}/polling/minSeconds is above ${at}/polling/maxSeconds`);
  if ((d.debounce?.quietSeconds ?? 60) > (d.debounce?.maxWaitSeconds ?? 900))
    throw new ConfigError(`${at}/debounce/quietSeconds is above ${at}/debounce/maxWaitSeconds`);
}

function resolveDataset(config: SluiceConfig, d: DatasetConfig): ResolvedDataset {
  const prefix = `sluice-${config.stage}-${d.name.replace(/_/g, '-')}`;
  return {
    name: d.name,
    raw: { bucket: config.lake.rawBucket, prefix: d.raw.prefix, format: d.raw.format },
    partitioning: {
      style: d.partitioning.style,
      template: d.partitioning.template ?? d.partitioning.keys.map((k) => `${k.name}={${k.name}}`).join('/') + '/',
      keys: d.partitioning.keys,
    },
    crawler: { name: d.crawler?.name ?? `${prefix}-raw`, recrawl: d.crawler?.recrawl ?? 'new-folders-only' },
    job: {
      name: d.job?.name ?? `${prefix}-job`,
      maxConcurrentRuns: d.job?.maxConcurrentRuns ?? 10,
      timeoutMinutes: d.job?.timeoutMinutes ?? 60,
      maxBadRowsFraction: d.job?.maxBadRowsFraction ?? 0.01,
      arguments: d.job?.arguments ?? {},
    },
    target: { bucket: config.lake.curatedBucket, ...d.target },
    mapping: d.mapping,
    debounce: { quietSeconds: d.debounce?.quietSeconds ?? 60, maxWaitSeconds: d.debounce?.maxWaitSeconds ?? 900 },
    fanOut: { maxConcurrency: d.fanOut?.maxConcurrency ?? 10 },
    polling: {
      minSeconds: d.polling?.minSeconds ?? 15,
      maxSeconds: d.polling?.maxSeconds ?? 300,
      growth: d.polling?.growth ?? 0.25,
    },
  };
}

/** Validates a parsed config document; throws ConfigError naming the first bad field. */
export function parseConfig(document: unknown, source = 'config'): ResolvedConfig {
  const config = validate<SluiceConfig>('SluiceConfig', structuredClone(document), source, ConfigError);
  const names = config.datasets.map((d) => d.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ConfigError(`${source}: dataset '${dup}' is declared twice`);
  const prefixes = config.datasets.map((d) => d.raw.prefix);
  prefixes.forEach((p, i) => {
    const overlap = prefixes.findIndex((q, j) => j !== i && q.startsWith(p));
    if (overlap >= 0)
      throw new ConfigError(
        `${source}: /datasets/${i}/raw/prefix '${p}' contains /datasets/${overlap}/raw/prefix '${prefixes[overlap]}'; a key must belong to one dataset`,
      );
  });
  config.datasets.forEach((d, i) => checkDataset(d, `${source}: /datasets/${i}`));
  return {
    stage: config.stage,
    region: config.region ?? 'eu-west-1',
    lake: config.lake,
    athena: {
      workgroup: config.athena?.workgroup ?? `sluice-${config.stage}`,
      partitionsPerStatement: config.athena?.partitionsPerStatement ?? 100,
    },
    deploy: {
      ...(config.deploy?.alarmEmail ? { alarmEmail: config.deploy.alarmEmail } : {}),
      logRetentionDays: config.deploy?.logRetentionDays ?? 30,
      retainData: config.deploy?.retainData ?? false,
      ...(config.deploy?.catchUpSchedule ? { catchUpSchedule: config.deploy.catchUpSchedule } : {}),
      glueWorkerType: config.deploy?.glueWorkerType ?? 'G.1X',
      glueWorkers: config.deploy?.glueWorkers ?? 2,
    },
    datasets: config.datasets.map((d) => resolveDataset(config, d)),
  };
}

export function loadConfigFile(path: string): ResolvedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${String(error)}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON: ${String(error)}`);
  }
  return parseConfig(document, path);
}

export function datasetNamed(config: ResolvedConfig, name: string): ResolvedDataset {
  const dataset = config.datasets.find((d) => d.name === name);
  if (!dataset)
    throw new UnknownDatasetError(
      `dataset '${name}' is not configured for stage '${config.stage}' (known: ${config.datasets.map((d) => d.name).join(', ')})`,
    );
  return dataset;
}
