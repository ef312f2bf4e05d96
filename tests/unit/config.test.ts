import { join } from 'node:path';
import { NAME_LIMITS, assertNameWithin, loadConfigFile, parseConfig, targetFolderOf } from '../../domain/config/config';
import datasetConfigSchema from '../../schemas/dataset-config.schema.json';
import { ConfigError } from '../../domain/common';
import { ORDERS_CONFIG } from '../support/fakes';
import { glueContractArguments } from '../../domain/rows';

const withDataset = (patch: (d: Record<string, unknown>) => void) => {
  const doc = structuredClone(ORDERS_CONFIG) as unknown as { datasets: Record<string, unknown>[] };
  patch(doc.datasets[0]!);
  return doc;
};

describe('dataset config', () => {
  test('fills defaults and derives resource names from stage and dataset', () => {
    const config = parseConfig(ORDERS_CONFIG);
    const clicks = config.datasets[1]!;
    expect(clicks.crawler).toEqual({
      name: 'sluice-test-clicks-raw',
      recrawl: 'new-folders-only',
      when: 'schema-change',
    });
    expect(clicks.job.name).toBe('sluice-test-clicks-job');
    expect(clicks.debounce).toEqual({ quietSeconds: 60, maxWaitSeconds: 900, maxClaimPartitions: 10_000 });
    expect(clicks.polling).toEqual({ minSeconds: 15, maxSeconds: 300, growth: 0.25 });
    expect(config.datasets[0]!.partitioning.template).toBe('year={year}/month={month}/day={day}/');
  });

  test('job.missingColumns: bad rows by default, or fail the partition; both engines get it from the config', () => {
    expect(parseConfig(ORDERS_CONFIG).datasets[0]!.job.missingColumns).toBe('bad-rows');
    expect(glueContractArguments(parseConfig(ORDERS_CONFIG).datasets[0]!)['--sluice_missing_columns']).toBe('bad-rows');
    const failing = parseConfig(withDataset((d) => (d.job = { ...(d.job as object), missingColumns: 'fail' })));
    expect(glueContractArguments(failing.datasets[0]!)['--sluice_missing_columns']).toBe('fail');
    expect(() => parseConfig(withDataset((d) => (d.job = { ...(d.job as object), missingColumns: 'null' })))).toThrow(
      /\/datasets\/0\/job\/missingColumns must be equal to one of the allowed values/,
    );
  });

  test('names the bad field when a value breaks the schema', () => {
    expect(() => parseConfig(withDataset((d) => ((d.raw as Record<string, string>).format = 'xml')))).toThrow(
      /\/datasets\/0\/raw\/format must be equal to one of the allowed values/,
    );
  });

  test('rejects an unanchored partition pattern', () => {
    const doc = withDataset((d) => ((d.partitioning as { keys: { pattern: string }[] }).keys[0]!.pattern = '[0-9]{4}'));
    expect(() => parseConfig(doc)).toThrow(/\/datasets\/0\/partitioning\/keys\/0\/pattern/);
  });

  test('rejects a path template that does not use every key in order', () => {
    const doc = structuredClone(ORDERS_CONFIG);
    (doc.datasets[1]!.partitioning as { template: string }).template = '{hour}/{dt}/';
    expect(() => parseConfig(doc)).toThrow(ConfigError);
    expect(() => parseConfig(doc)).toThrow(/\/datasets\/1\/partitioning\/template must use every key once, in order/);
  });

  test('rejects a target location that would let partitions overwrite each other', () => {
    const doc = withDataset(
      (d) => ((d.target as { locationTemplate: string }).locationTemplate = 'orders/year={year}/'),
    );
    expect(() => parseConfig(doc)).toThrow(/locationTemplate must place every partition key; \{month\} is missing/);
  });

  test('rejects a fan-out above the job MaxConcurrentRuns', () => {
    const doc = withDataset((d) => Object.assign(d, { fanOut: { maxConcurrency: 20 }, job: { maxConcurrentRuns: 5 } }));
    expect(() => parseConfig(doc)).toThrow(/fanOut\/maxConcurrency \(20\) is above .*maxConcurrentRuns \(5\)/);
  });

  test('rejects overlapping raw prefixes, since a key must belong to one dataset', () => {
    const doc = structuredClone(ORDERS_CONFIG);
    doc.datasets[1]!.raw.prefix = 'orders/clicks/';
    expect(() => parseConfig(doc)).toThrow(/'orders\/' contains .*'orders\/clicks\/'/);
  });

  test('the shipped stage configs are valid', () => {
    for (const stage of ['dev', 'prod', 'local']) {
      expect(() => loadConfigFile(join(__dirname, '..', '..', 'config', `${stage}.json`))).not.toThrow();
    }
  });

  test('derives every AWS resource name from stage and dataset, once', () => {
    const config = parseConfig(ORDERS_CONFIG);
    expect(config.names).toMatchObject({
      service: 'sluice-test',
      stateMachine: 'sluice-test',
      stateTable: 'sluice-test-state',
      deadLetterQueue: 'sluice-test-dead-letters',
      recoveryQueue: 'sluice-test-recovery-dead-letters',
      rawDatabase: 'sluice_test_raw',
    });
    expect(config.names.lambda('onArrival')).toBe('sluice-test-onArrival');
    expect(config.datasets[0]!.names.arrivalRule).toBe('sluice-test-orders-arrivals');
  });

  test('rejects a dataset name that makes its EventBridge rule name longer than 64, naming the field', () => {
    const name = 'orders_received_from_the_web_shop_and_every_marketplace';
    expect(`sluice-test-${name.replace(/_/g, '-')}-arrivals`.length).toBeGreaterThan(NAME_LIMITS.eventRule.max);
    const doc = withDataset((d) => (d.name = name));
    expect(() => parseConfig(doc)).toThrow(ConfigError);
    expect(() => parseConfig(doc)).toThrow(
      /\/datasets\/0\/name makes the EventBridge rule name 'sluice-test-orders-received-.*-arrivals' 76 characters long; AWS allows 1-64/,
    );
  });

  test('the longest dataset name that fits is accepted, one more character is not', () => {
    const fits = 'a'.repeat(NAME_LIMITS.eventRule.max - 'sluice-test--arrivals'.length);
    expect(() => parseConfig(withDataset((d) => (d.name = fits)))).not.toThrow();
    expect(() => parseConfig(withDataset((d) => (d.name = `${fits}b`)))).toThrow(/\/datasets\/0\/name/);
  });

  test('the longest stage and region the schema allow keep every stage-wide name within its limit', () => {
    const doc = { ...structuredClone(ORDERS_CONFIG), stage: 'a'.repeat(16), region: 'ap-southeast-5' };
    doc.datasets = doc.datasets.map((d) => ({ ...d, name: d.name.slice(0, 3) }));
    expect(() => parseConfig(doc)).not.toThrow();
  });

  test('a derived name outside its limit is reported with the field it comes from and the limit', () => {
    expect(() => assertNameWithin('sqsQueue', 'q'.repeat(81), '/stage')).toThrow(
      "/stage makes the SQS queue name '" + 'q'.repeat(81) + "' 81 characters long; AWS allows 1-80",
    );
    expect(() => assertNameWithin('s3Bucket', 'ab', '/lake/rawBucket')).toThrow(/allows 3-63/);
  });

  test('the Glue worker types are those Glue ETL jobs accept (G.025X is for streaming jobs only)', () => {
    const enumOf = (
      datasetConfigSchema as { properties: { deploy: { properties: { glueWorkerType: { enum: string[] } } } } }
    ).properties.deploy.properties.glueWorkerType.enum;
    expect(enumOf).toEqual(['G.1X', 'G.2X', 'G.4X', 'G.8X']);
    const withWorker = (glueWorkerType: string) => ({ ...structuredClone(ORDERS_CONFIG), deploy: { glueWorkerType } });
    expect(() => parseConfig(withWorker('G.025X'))).toThrow(
      /\/deploy\/glueWorkerType must be equal to one of the allowed values/,
    );
    expect(parseConfig(withWorker('G.4X')).deploy.glueWorkerType).toBe('G.4X');
  });

  test('freshnessSlaMinutes is optional, in whole minutes', () => {
    expect(parseConfig(ORDERS_CONFIG).datasets[0]!.freshnessSlaMinutes).toBeUndefined();
    expect(parseConfig(withDataset((d) => (d.freshnessSlaMinutes = 90))).datasets[0]!.freshnessSlaMinutes).toBe(90);
    expect(() => parseConfig(withDataset((d) => (d.freshnessSlaMinutes = 1.5)))).toThrow(
      /\/datasets\/0\/freshnessSlaMinutes must be integer/,
    );
    expect(() => parseConfig(withDataset((d) => (d.freshnessSlaMinutes = 0)))).toThrow(
      /freshnessSlaMinutes must be >= 1/,
    );
  });

  test("the target table's folder is the location template's folders before the first {key}", () => {
    expect(targetFolderOf('orders/year={year}/month={month}/')).toBe('orders/');
    expect(targetFolderOf('lake/clicks/{dt}/')).toBe('lake/clicks/');
    expect(targetFolderOf('{year}/')).toBe('');
    expect(parseConfig(ORDERS_CONFIG).datasets[0]!.target.folder).toBe('orders/');
  });

  test('rejects a location template without a folder of its own, which would make the table the whole bucket', () => {
    const doc = withDataset(
      (d) => ((d.target as { locationTemplate: string }).locationTemplate = 'year={year}/month={month}/day={day}/'),
    );
    expect(() => parseConfig(doc)).toThrow(
      /\/datasets\/0\/target\/locationTemplate must start with the dataset's own folder/,
    );
  });

  test('rejects datasets sharing a target folder, or a target under _rejected/', () => {
    const shared = structuredClone(ORDERS_CONFIG);
    (shared.datasets[1]!.target as { locationTemplate: string }).locationTemplate =
      'orders/clicks/dt={dt}/hour={hour}/';
    expect(() => parseConfig(shared)).toThrow(/folder 'orders\/' contains the folder 'orders\/clicks\/'/);
    const rejected = withDataset(
      (d) =>
        ((d.target as { locationTemplate: string }).locationTemplate =
          '_rejected/year={year}/month={month}/day={day}/'),
    );
    expect(() => parseConfig(rejected)).toThrow(/must not be under _rejected\//);
  });
});
