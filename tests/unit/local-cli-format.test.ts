/** Issue 25, items 6-9: what the local CLI shows (cli/format.ts). */
import { datasetOfExecution, displayPath, jsonValue, localPaths, nodeVersionProblem } from '../../cli/format';
import { decodeS3Key, encodeS3Key } from '../../adapters/local/lake';

describe('Node version check against package.json engines', () => {
  test.each([
    ['22.23.3', '>=22 <23', false],
    ['v22.0.0', '>=22 <23', false],
    ['20.20.2', '>=22 <23', true],
    ['23.1.0', '>=22 <23', true],
    ['24.0.0', '>=22', false],
    ['18.0.0', '^18', false], // a form it does not understand is not checked
  ])('Node %s under %s: problem %s', (version, range, problem) => {
    expect(nodeVersionProblem(version, range) !== null).toBe(problem);
  });

  test('the message names both versions and the way out', () => {
    const message = nodeVersionProblem('20.20.2', '>=22 <23') ?? '';
    expect(message).toMatch(/^sluice needs Node >=22 <23 \(package.json "engines"\); this is Node v20\.20\.2 /);
    expect(message).toContain('npm run sluice -- <command>');
  });
});

describe('--json numbers: a JSON number where its text is the exact value, else a string', () => {
  test.each([
    ['300', 'BIGINT', 300],
    ['-42', 'INTEGER', -42],
    ['9007199254740991', 'BIGINT', 9007199254740991],
    ['9007199254740993', 'BIGINT', '9007199254740993'],
    ['900719925474119400', 'HUGEINT', '900719925474119400'],
    ['1.25', 'DECIMAL(5,2)', 1.25],
    ['1.50', 'DECIMAL(12,2)', 1.5],
    ['-0.10', 'DECIMAL(12,2)', -0.1],
    ['0.00', 'DECIMAL(12,2)', 0],
    ['12345678901234567.89', 'DECIMAL(38,2)', '12345678901234567.89'],
    ['2024-01-01', 'DATE', '2024-01-01'],
    ['42', 'VARCHAR', '42'],
  ])('%s (%s) -> %p', (value, type, expected) => {
    expect(jsonValue(value, type)).toEqual(expected);
  });

  test('every DECIMAL made a number reads back to the same decimal text', () => {
    for (let cents = -100_000; cents <= 100_000; cents += 7) {
      const text = (cents / 100).toFixed(2);
      const value = jsonValue(text, 'DECIMAL(12,2)');
      expect(typeof value).toBe('number');
      expect((value as number).toFixed(2)).toBe(text === '-0.00' ? '0.00' : text);
    }
  });
});

describe('keys and paths as the user wrote them', () => {
  test('an S3 event key is decoded back to the key as written', () => {
    for (const key of ['orders/misc/stray file.csv', 'orders/a+b (1)/ü.csv', 'plain/key.csv'])
      expect(decodeS3Key(encodeS3Key(key))).toBe(key);
    expect(decodeS3Key('bad%E0%A4%A.csv')).toBe('bad%E0%A4%A.csv');
  });

  test('local s3:// URIs become lake paths, except inside JSON meant to be pasted back', () => {
    const text =
      'rows kept in s3://curated/_rejected/x.csv; see s3://local-artifacts/runs/a/manifest.json\n' +
      '{"dataset":"d","manifest":"s3://local-artifacts/runs/a/failed.json"}\nand s3://elsewhere/k stays';
    expect(localPaths(text, '/home/u/lake', ['raw', 'curated', 'local-artifacts'], '/home/u')).toBe(
      'rows kept in lake/curated/_rejected/x.csv; see lake/local-artifacts/runs/a/manifest.json\n' +
        '{"dataset":"d","manifest":"s3://local-artifacts/runs/a/failed.json"}\nand s3://elsewhere/k stays',
    );
    expect(displayPath('/tmp/lake/raw', '/home/u')).toBe('/tmp/lake/raw');
  });
});

test('progress lines name the whole dataset, hyphens and underscores included', () => {
  const datasets = ['weather', 'weather_na', 'orders'];
  expect(datasetOfExecution('weather-na-arrival-20261204225843955-w6uki4', datasets)).toBe('weather_na');
  expect(datasetOfExecution('arn:aws:states:local:0:execution:sluice-local:weather-backfill-2026-x', datasets)).toBe(
    'weather',
  );
  expect(datasetOfExecution('nosuch-arrival-1', datasets)).toBeUndefined();
});
