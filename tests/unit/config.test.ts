import { join } from 'node:path';
import { loadConfigFile, parseConfig } from '../../domain/config';
import { ConfigError } from '../../domain/errors';
import { ORDERS_CONFIG } from '../support/fakes';

const withDataset = (patch: (d: Record<string, unknown>) => void) => {
  const doc = structuredClone(ORDERS_CONFIG) as unknown as { datasets: Record<string, unknown>[] };
  patch(doc.datasets[0]!);
  return doc;
};

describe('dataset config', () => {
  test('fills defaults and derives resource names from stage and dataset', () => {
    const config = parseConfig(ORDERS_CONFIG);
    const clicks = config.datasets[1]!;
    expect(clicks.crawler).toEqual({ name: 'sluice-test-clicks-raw', recrawl: 'new-folders-only' });
    expect(clicks.job.name).toBe('sluice-test-clicks-job');
    expect(clicks.debounce).toEqual({ quietSeconds: 60, maxWaitSeconds: 900 });
    expect(clicks.polling).toEqual({ minSeconds: 15, maxSeconds: 300, growth: 0.25 });
    expect(config.datasets[0]!.partitioning.template).toBe('year={year}/month={month}/day={day}/');
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
});
