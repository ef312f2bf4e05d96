import { MemoryArtifactStore } from '../../adapters/memory/artifact-store';
import { readItems, writeMapRunResults, type ChildRun } from '../../adapters/local/distributed-map';
import { InvalidOutputError, runArtifacts, validate } from '../../domain/common';
import { failureDigest, outcomeOf, parseResultFile, readMapRun, summarizeMapRun } from '../../domain/steps/map-results';
import { partitionsOf, writePartitionList } from '../../domain/inputs/run-inputs';
import { testConfig } from '../support/fakes';

const orders = testConfig().datasets[0]!;
const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:sluice-dev';
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-dev:orders-manual-1';
const WRITER = (bucket: string) => ({
  Resource: 'arn:aws:states:::s3:putObject',
  Parameters: { Bucket: bucket, Prefix: runArtifacts(bucket, ARN).mapResultsPrefix },
});

function child(day: number, outcome: 'ok' | 'failed' | 'execution-failed' | 'pending'): ChildRun {
  const partition = { year: '2024', month: '01', day: String(day).padStart(2, '0') };
  const base = {
    name: `c${day}`,
    input: { dataset: 'orders', executionArn: ARN, partition },
    startedAt: new Date('2024-03-01T10:00:00Z'),
    stoppedAt: new Date('2024-03-01T10:05:00Z'),
  };
  switch (outcome) {
    case 'ok':
      return { ...base, status: 'SUCCEEDED', output: { partition, ok: true, state: 'SUCCEEDED' } };
    case 'failed':
      return {
        ...base,
        status: 'SUCCEEDED',
        output: { ok: false, state: 'FAILED', message: 'AnalysisException: column amount cannot be cast' },
      };
    case 'execution-failed':
      return {
        ...base,
        status: 'FAILED',
        error: 'Lambda.Unknown',
        cause: JSON.stringify({ errorType: 'Runtime.ExitError', errorMessage: 'out of memory' }),
      };
    case 'pending':
      return { ...base, status: 'PENDING' };
  }
}

describe('local ItemReader and ResultWriter write what AWS documents', () => {
  test('ItemReader reads the JSON array that the prepare step wrote', async () => {
    const store = new MemoryArtifactStore('art');
    const partitions = await partitionsOf(
      {
        dataset: 'orders',
        range: { from: { year: '2024', month: '01', day: '01' }, to: { year: '2024', month: '01', day: '03' } },
      },
      orders,
      store,
    );
    const ref = await writePartitionList(store, ARN, partitions);
    const reader = {
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { Bucket: ref.bucket, Key: ref.key },
    };
    expect(await readItems(store, reader)).toEqual(partitions);
    expect(await readItems(store, { ...reader, ReaderConfig: { InputType: 'JSON', MaxItems: 2 } })).toHaveLength(2);
    await expect(
      readItems(store, { ...reader, Parameters: { Bucket: 'art', Key: 'none.json' } }),
    ).rejects.toMatchObject({
      name: 'States.ItemReaderFailed',
    });
    await expect(readItems(store, { ...reader, ReaderConfig: { InputType: 'CSV' } })).rejects.toThrow(
      /InputType JSON only/,
    );
  });

  test('ResultWriter: manifest.json per map run, result files per status, the Map output pointing at it', async () => {
    const store = new MemoryArtifactStore('art');
    const output = await writeMapRunResults(store, WRITER('art'), SM, 'Partitions', [
      child(1, 'ok'),
      child(2, 'failed'),
      child(3, 'execution-failed'),
    ]);
    expect(validate('MapRunOutput', output, 'map output')).toEqual(output);
    expect(output.ResultWriterDetails.Key).toMatch(
      /^runs\/sluice-dev\/orders-manual-1\/map-results\/[0-9a-f-]{36}\/manifest\.json$/,
    );
    expect(output.MapRunArn).toMatch(
      /^arn:aws:states:eu-west-1:123456789012:mapRun:sluice-dev\/Partitions:[0-9a-f-]{36}$/,
    );
    const manifest = JSON.parse((await store.get({ bucket: 'art', key: output.ResultWriterDetails.Key }))!);
    expect(validate('MapResultManifest', manifest, 'manifest')).toBeTruthy();
    expect(manifest.ResultFiles.SUCCEEDED).toHaveLength(1);
    expect(manifest.ResultFiles.FAILED).toHaveLength(1);
    expect(manifest.ResultFiles.PENDING).toEqual([]);
    expect(manifest.ResultFiles.SUCCEEDED[0].Key).toMatch(/\/SUCCEEDED_0\.json$/);
    const records = JSON.parse((await store.get({ bucket: 'art', key: manifest.ResultFiles.FAILED[0].Key }))!);
    expect(records[0]).toMatchObject({ Status: 'FAILED', Error: 'Lambda.Unknown', InputDetails: { Included: true } });
    expect(typeof records[0].Input).toBe('string');
  });
});

describe('the summary reads the ResultWriter manifest, not the state', () => {
  test('counts, first failures, the failed list as a manifest, the succeeded list for Athena', async () => {
    const store = new MemoryArtifactStore('art');
    const children = [
      child(1, 'ok'),
      child(2, 'failed'),
      child(3, 'execution-failed'),
      child(4, 'pending'),
      child(5, 'ok'),
    ];
    const mapRun = await writeMapRunResults(store, WRITER('art'), SM, 'Partitions', children, 2);
    const summary = await summarizeMapRun({ dataset: 'orders', executionArn: ARN, mapRun, skipCrawler: true }, store);
    expect(validate('MapRunSummary', structuredClone(summary), 'summary')).toBeTruthy();
    expect(summary).toMatchObject({ total: 5, succeededCount: 2, failedCount: 3 });
    expect(summary.firstFailures.map((f) => [f.partition.day, f.state, f.message])).toEqual([
      ['02', 'FAILED', 'AnalysisException: column amount cannot be cast'],
      ['03', 'FAILED', 'Lambda.Unknown: out of memory'],
      ['04', 'NOT_RUN', 'the Map Run ended before this partition ran'],
    ]);
    expect(summary.rerunInput).toEqual({
      dataset: 'orders',
      manifest: 's3://art/runs/sluice-dev/orders-manual-1/failed-partitions.json',
      skipCrawler: true,
    });
    const rerun = await partitionsOf(summary.rerunInput!, orders, store);
    expect(rerun.map((p) => p.day).sort()).toEqual(['02', '03', '04']);
    const succeeded = JSON.parse((await store.get(summary.succeeded!))!);
    expect(succeeded.map((p: { day: string }) => p.day).sort()).toEqual(['01', '05']);
    expect(summary.resultsManifest).toBe(`s3://art/${mapRun.ResultWriterDetails.Key}`);
  });

  test('all succeeded: no failed list, no re-run input', async () => {
    const store = new MemoryArtifactStore('art');
    const mapRun = await writeMapRunResults(store, WRITER('art'), SM, 'Partitions', [child(1, 'ok')]);
    const summary = await summarizeMapRun({ dataset: 'orders', executionArn: ARN, mapRun }, store);
    expect(summary).toMatchObject({
      succeededCount: 1,
      failedCount: 0,
      failed: null,
      rerunInput: null,
      firstFailures: [],
    });
  });

  test('10,000 failed partitions: the summary stays small and lists the first 50', async () => {
    const store = new MemoryArtifactStore('art');
    const children: ChildRun[] = [];
    for (let i = 0; i < 10_000; i++) {
      const c = child(1, 'failed');
      const partition = { year: String(2000 + Math.floor(i / 366)), month: '01', day: '01', n: String(i) };
      children.push({ ...c, name: `c${i}`, input: { dataset: 'orders', executionArn: ARN, partition } });
    }
    const mapRun = await writeMapRunResults(store, WRITER('art'), SM, 'Partitions', children);
    const summary = await summarizeMapRun({ dataset: 'orders', executionArn: ARN, mapRun }, store);
    expect(summary.failedCount).toBe(10_000);
    expect(summary.firstFailures).toHaveLength(50);
    expect(Buffer.byteLength(JSON.stringify(summary))).toBeLessThan(16 * 1024);
  });

  test('a manifest in the shape of a real capture (two statuses, Size fields) is read', async () => {
    const store = new MemoryArtifactStore('bodds-dev');
    const prefix = 'tt-etl-map-results/25bc2fbb-6f60-4c44-876b-3cc9586fc435';
    const input = JSON.stringify({
      dataset: 'orders',
      executionArn: ARN,
      partition: { year: '2024', month: '01', day: '01' },
    });
    const base = {
      ExecutionArn: 'arn:aws:states:eu-west-2:228266753808:execution:sm/Map:abc',
      Input: input,
      InputDetails: { Included: true },
      Name: 'abc',
      RedriveCount: 0,
      StartDate: '2025-01-01T00:00:00.000Z',
      StopDate: '2025-01-01T00:01:00.000Z',
      StateMachineArn: 'arn:aws:states:eu-west-2:228266753808:stateMachine:sm/Map',
    };
    await store.put(
      { bucket: 'bodds-dev', key: `${prefix}/SUCCEEDED_0.json` },
      JSON.stringify([
        {
          ...base,
          Status: 'SUCCEEDED',
          RedriveStatus: 'NOT_REDRIVABLE',
          Output: '{"ok":true,"state":"SUCCEEDED"}',
          OutputDetails: { Included: true },
        },
      ]),
    );
    await store.put(
      { bucket: 'bodds-dev', key: `${prefix}/FAILED_0.json` },
      JSON.stringify([
        {
          ...base,
          Status: 'FAILED',
          RedriveStatus: 'REDRIVABLE_BY_MAP_RUN',
          Error: 'States.TaskFailed',
          Cause: 'boom',
        },
      ]),
    );
    await store.put(
      { bucket: 'bodds-dev', key: `${prefix}/manifest.json` },
      JSON.stringify({
        DestinationBucket: 'bodds-dev',
        MapRunArn: 'arn:aws:states:eu-west-2:228266753808:mapRun:sm/x:25bc2fbb-6f60-4c44-876b-3cc9586fc435',
        ResultFiles: {
          FAILED: [{ Key: `${prefix}/FAILED_0.json`, Size: 80039 }],
          PENDING: [],
          SUCCEEDED: [{ Key: `${prefix}/SUCCEEDED_0.json`, Size: 229628 }],
        },
      }),
    );
    const tally = await readMapRun(store, { bucket: 'bodds-dev', key: `${prefix}/manifest.json` });
    expect(tally.succeeded).toHaveLength(1);
    expect(tally.failed).toEqual([
      {
        partition: { year: '2024', month: '01', day: '01' },
        ok: false,
        state: 'FAILED',
        message: 'States.TaskFailed: boom',
      },
    ]);
  });

  test('JSON Lines result files are read too', () => {
    const line = JSON.stringify({
      ExecutionArn: 'a',
      Input: '{"partition":{"year":"2024"}}',
      Status: 'SUCCEEDED',
      Output: '{"ok":true,"state":"SUCCEEDED"}',
    });
    expect(parseResultFile(`${line}\n${line}\n`, 'x')).toHaveLength(2);
  });

  test.each([
    [
      { ExecutionArn: 'a', Input: '{}', Status: 'SUCCEEDED', Output: '{"ok":true,"state":"S"}' },
      /has no partition in its Input/,
    ],
    [
      { ExecutionArn: 'a', Input: '{"partition":{"y":"1"}}', Status: 'SUCCEEDED', Output: '{"done":true}' },
      /returned no \{ok, state\}/,
    ],
    [{ ExecutionArn: 'a', Input: 'nope', Status: 'FAILED' }, /Input of a in x is not JSON/],
  ])('a malformed record is a named error, never a silent success: %j', (record, reason) => {
    expect(() => outcomeOf(record, 'x')).toThrow(InvalidOutputError);
    expect(() => outcomeOf(record, 'x')).toThrow(reason);
  });

  test('a missing manifest or result file is a named error', async () => {
    const store = new MemoryArtifactStore('art');
    await expect(readMapRun(store, { bucket: 'art', key: 'm/manifest.json' })).rejects.toThrow(
      /ResultWriter manifest s3:\/\/art\/m\/manifest\.json does not exist/,
    );
    await store.put(
      { bucket: 'art', key: 'm/manifest.json' },
      JSON.stringify({ DestinationBucket: 'art', ResultFiles: { SUCCEEDED: [{ Key: 'm/S_0.json' }] } }),
    );
    await expect(readMapRun(store, { bucket: 'art', key: 'm/manifest.json' })).rejects.toThrow(
      /result file s3:\/\/art\/m\/S_0\.json listed in .* does not exist/,
    );
    await store.put({ bucket: 'art', key: 'm/manifest.json' }, JSON.stringify({ ResultFiles: {} }));
    await expect(readMapRun(store, { bucket: 'art', key: 'm/manifest.json' })).rejects.toThrow(
      /must have required property 'DestinationBucket'/,
    );
  });
});

describe('the failure digest for the notification', () => {
  test('10,000 failures with 200-character messages and 10-key partitions: bounded, with the re-run input', () => {
    const partition = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`key_${i}`, 'v'.repeat(20)]));
    const summary = {
      total: 10_000,
      succeededCount: 0,
      failedCount: 10_000,
      firstFailures: Array.from({ length: 50 }, () => ({
        partition,
        ok: false,
        state: 'FAILED',
        message: 'm'.repeat(200),
      })),
      resultsManifest: 's3://art/runs/sluice-dev/x/map-results/id/manifest.json',
      succeeded: null,
      failed: { bucket: 'art', key: 'runs/sluice-dev/x/failed-partitions.json', count: 10_000 },
      rerunInput: {
        dataset: 'orders',
        manifest: 's3://art/runs/sluice-dev/x/failed-partitions.json',
        skipCrawler: true,
      },
    };
    const text = failureDigest(summary).join('\n');
    expect(Buffer.byteLength(text)).toBeLessThan(64 * 1024);
    expect(text).toContain('Partitions: 10000 of 10000 failed, 0 succeeded');
    expect(text).toContain('... and 9950 more');
    expect(text).toContain('All failed partitions: s3://art/runs/sluice-dev/x/failed-partitions.json');
    expect(text).toContain(JSON.stringify(summary.rerunInput));
  });
});
