/**
 * Issue 12 through the real ASL with the in-memory ports: the manual input forms (explicit, range, manifest), each
 * written as the Distributed Map's item list so the state holds a reference only; the claim cap of automatic runs;
 * and the failed partitions stored as a manifest that a manual run accepts as its input.
 */
import { parseS3Uri, validate } from '../../domain/common';
import { parseConfig } from '../../domain/config/config';
import { validateRunRequest } from '../../domain/inputs';
import { type FakeWorld, fakeWorld, ORDERS_CONFIG, testConfig } from '../support/fakes';
import { arrive, EXECUTION_ARN, runAutomatic, runManual } from '../support/machine';

const day = (d: number) => ({ year: '2024', month: '02', day: String(d).padStart(2, '0') });
const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');

/** The partition of every job run the fake Glue started, in start order. */
const jobPartitions = (world: FakeWorld) =>
  world.jobs.runs.map((r) => JSON.parse(r.arguments['--sluice_partition'] ?? '{}') as Record<string, string>);

async function listAt(world: FakeWorld, uri: string): Promise<unknown> {
  const text = await world.artifacts.get(parseS3Uri(uri));
  return text === null ? null : JSON.parse(text);
}

/** The largest input or output of any state, parent or child, in the run's events. */
const largestPayload = (events: Array<{ state?: { input?: unknown; output?: unknown } }>) =>
  events.reduce((max, e) => Math.max(max, bytes(e.state?.input), bytes(e.state?.output)), 0);

describe('manual inputs by reference run through the Distributed Map (ItemReader)', () => {
  test('a range per key: every day of February 2024, leap day included, one job run each', async () => {
    const world = fakeWorld();
    const result = await runManual(
      world,
      { dataset: 'orders', range: { from: day(1), to: day(29) }, skipCrawler: true },
      { expectStatus: 'SUCCEEDED' },
    );
    expect(jobPartitions(world)).toHaveLength(29);
    expect(new Set(jobPartitions(world).map((p) => p.day)).size).toBe(29);
    // The state holds a reference and a count, never the list.
    const prepared = result.events.find(
      (e) => e.type === 'StateExited' && e.state?.name === 'Validate the run request',
    );
    expect((prepared?.state?.output as { debounce: unknown }).debounce).toMatchObject({
      items: { bucket: 'sluice-test-artifacts', key: 'runs/sluice-test/run-1/partitions.json', count: 29 },
    });
    expect(JSON.stringify(prepared?.state?.output)).not.toContain('"day":"15"');
    expect(world.queries.started[0]?.sql.match(/PARTITION \(/g)).toHaveLength(29);
  });

  test('a manifest object in the artifacts bucket; repeats are dropped', async () => {
    const world = fakeWorld();
    const at = { bucket: 'sluice-test-artifacts', key: 'manifests/feb.json' };
    await world.artifacts.put(at, JSON.stringify([day(3), day(4), day(3)]));
    await runManual(
      world,
      { dataset: 'orders', manifest: 's3://sluice-test-artifacts/manifests/feb.json', skipCrawler: true },
      { expectStatus: 'SUCCEEDED' },
    );
    expect(jobPartitions(world)).toEqual([day(3), day(4)]);
  });

  test.each([
    [
      'a month that does not exist',
      { dataset: 'orders', range: { from: day(1), to: { year: '2024', month: '13', day: '01' } } },
      /range\.to.*month/,
    ],
    [
      'February 30th',
      { dataset: 'orders', range: { from: day(1), to: day(30) } },
      /day 30 of February 2024, which has 29 days/,
    ],
    [
      'a manifest outside the artifacts bucket',
      { dataset: 'orders', manifest: 's3://someone-elses-bucket/m.json' },
      /artifacts bucket 'sluice-test-artifacts' only/,
    ],
    [
      'a manifest that is not there',
      { dataset: 'orders', manifest: 's3://sluice-test-artifacts/manifests/none.json' },
      /does not exist/,
    ],
    [
      'two forms at once',
      { dataset: 'orders', partitions: [day(1)], range: { from: day(1), to: day(2) } },
      /exactly one of 'trigger'.*got 'partitions' and 'range'/,
    ],
    ['a misspelled field of a range', { dataset: 'orders', range: { from: day(1), too: day(2) } }, /\/range.*'too'/],
  ])('%s is refused by the first step, naming what is wrong, with one notification', async (_, input, reason) => {
    const world = fakeWorld();
    const result = await runManual(world, input, { expectStatus: 'FAILED' });
    expect(world.notifier.published).toHaveLength(1);
    const report = world.notifier.report();
    expect(report.failedStep).toBe('prepareRun');
    expect(String(report.cause)).toMatch(reason);
    expect(world.jobs.runs).toHaveLength(0);
    expect(result.status).toBe('FAILED');
  });
});

describe('the re-run input of a failed run is a stored manifest, accepted as manual input', () => {
  test('3 of 12 failing: counts, the failures, the full list by reference; its re-run processes exactly those', async () => {
    const world = fakeWorld();
    const failing = new Set(['03', '07', '11']);
    world.jobs.script = (args) =>
      failing.has(JSON.parse(args['--sluice_partition'] ?? '{}').day)
        ? { pollsToFinish: 1, finalState: 'FAILED', errorMessage: 'AnalysisException: cannot cast' }
        : { pollsToFinish: 1, finalState: 'SUCCEEDED' };
    await runManual(
      world,
      { dataset: 'orders', range: { from: day(1), to: day(12) }, skipCrawler: true },
      { expectStatus: 'FAILED' },
    );
    expect(world.notifier.published).toHaveLength(1);
    const message = world.notifier.published[0]!.message;
    const report = world.notifier.report();
    expect(report).toMatchObject({ failedStep: 'processPartitions', error: 'JobRunsFailed', failedCount: 3 });
    expect(report.cause).toBe('3 of 12 partition job runs failed');
    expect(message).toContain('Failed partitions (3):');
    expect(message).toContain(
      'All failed partitions: s3://sluice-test-artifacts/runs/sluice-test/run-1/failed-partitions.json',
    );
    expect(message).toMatch(
      /All results \(ResultWriter manifest\): s3:\/\/sluice-test-artifacts\/runs\/sluice-test\/run-1\/map-results\/.+\/manifest\.json/,
    );
    const rerunInput = report.rerunInput as { manifest: string };
    expect(await listAt(world, rerunInput.manifest)).toEqual([day(3), day(7), day(11)]);
    // Only the succeeded partitions were registered.
    expect(world.queries.started[0]?.sql.match(/PARTITION \(/g)).toHaveLength(9);

    // The stored input re-runs exactly the failed partitions.
    world.jobs.script = () => ({ pollsToFinish: 1, finalState: 'SUCCEEDED' });
    const before = world.jobs.runs.length;
    await runManual(world, rerunInput, {
      executionArn: EXECUTION_ARN.replace('run-1', 'rerun-1'),
      expectStatus: 'SUCCEEDED',
    });
    expect(jobPartitions(world).slice(before)).toEqual([day(3), day(7), day(11)]);
    expect(world.notifier.published).toHaveLength(1);
  });
});

test('after a crawl that finished, the stored re-run input skips the crawl', async () => {
  const world = fakeWorld();
  world.jobs.script = () => ({ pollsToFinish: 0, finalState: 'FAILED', errorMessage: 'boom' });
  await runManual(world, { dataset: 'orders', range: { from: day(1), to: day(2) } }, { expectStatus: 'FAILED' });
  expect(world.crawlers.starts).toBeGreaterThan(0);
  expect(world.notifier.report().rerunInput).toMatchObject({ skipCrawler: true });
});

describe('automatic runs claim at most maxClaimPartitions; the rest waits for the follow-up', () => {
  test('12 pending, limit 5: the run processes the 5 oldest, releases, and a follow-up is started', async () => {
    const document = structuredClone(ORDERS_CONFIG);
    Object.assign(document.datasets[0]!, {
      debounce: { quietSeconds: 60, maxWaitSeconds: 900, maxClaimPartitions: 5 },
    });
    const world = fakeWorld(parseConfig(document));
    for (let d = 1; d <= 12; d++) {
      await arrive(world, 'orders', `year=2024/month=02/day=${String(d).padStart(2, '0')}`);
      world.clock.advance(1);
    }
    const result = await runAutomatic(world, 'orders', { expectStatus: 'SUCCEEDED' });
    expect(jobPartitions(world)).toEqual([1, 2, 3, 4, 5].map(day));
    expect((await world.arrivals.pendingSummary('orders'))?.partitions).toBe(7);
    expect(world.executions.started.map((s) => s.input)).toEqual([{ dataset: 'orders', trigger: 'follow-up' }]);
    const claimed = result.events.find(
      (e) =>
        e.type === 'StateExited' &&
        e.state?.name === 'Claim the settled arrivals' &&
        (e.state.output as { debounce?: { settled?: boolean } }).debounce?.settled,
    );
    expect((claimed?.state?.output as { debounce: unknown }).debounce).toMatchObject({
      partitionCount: 5,
      items: { count: 5 },
    });
    expect(largestPayload(result.events)).toBeLessThan(8 * 1024);
  });
});

describe('the input language: every README example is valid, and so is every form a run produces', () => {
  // These are the examples of the README's "Starting a run by hand" (12-readme.md); keep them in step.
  const EXAMPLES = [
    { dataset: 'orders', partitions: [{ year: '2024', month: '01', day: '05' }], skipCrawler: false },
    {
      dataset: 'orders',
      range: { from: { year: '2024', month: '01', day: '01' }, to: { year: '2024', month: '12', day: '31' } },
    },
    {
      dataset: 'clicks',
      range: { from: { dt: '2024-01-05', hour: '00' }, to: { dt: '2024-01-05', hour: '23' } },
      skipCrawler: true,
    },
    { dataset: 'orders', manifest: 's3://sluice-prod-artifacts/manifests/backfill-2024.json' },
    {
      dataset: 'orders',
      manifest: 's3://sluice-prod-artifacts/runs/sluice-prod/orders-arrival-20240105/failed-partitions.json',
      skipCrawler: true,
    },
    { dataset: 'orders', trigger: 'arrival' },
  ];
  test.each(EXAMPLES.map((e) => [JSON.stringify(e), e]))('%s', (_, example) => {
    expect(() => validate('ExecutionInput', structuredClone(example), 'execution input')).not.toThrow();
    expect(() => validateRunRequest(structuredClone(example))).not.toThrow();
  });

  test('a re-run input stored by a failed run is itself a valid execution input', async () => {
    const world = fakeWorld(testConfig());
    world.jobs.script = () => ({ pollsToFinish: 0, finalState: 'FAILED', errorMessage: 'boom' });
    await runManual(world, { dataset: 'orders', partitions: [day(1)], skipCrawler: true }, { expectStatus: 'FAILED' });
    expect(() => validateRunRequest(world.notifier.report().rerunInput)).not.toThrow();
  });
});
