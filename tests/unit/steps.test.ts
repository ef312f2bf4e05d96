import { addPartitionsStatement } from '../../domain/steps/athena';
import { checkCrawler, startCrawler, claimArrivals, prepareRun, releaseLease } from '../../domain/steps';
import { checkJobRun, jobRunKey, startJobRun } from '../../domain/steps/jobs';
import { notifyFailure, readCause } from '../../domain/steps/notify';
import { ensureRunActive } from '../../domain/runs';
import { InvalidPartitionError, type Log } from '../../domain/common';
import { claimedList } from '../../domain/inputs/run-inputs';
import { fakeWorld } from '../support/fakes';

const log: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const ARN = 'arn:aws:states:eu-west-1:1:execution:sm:e1';
const P = { year: '2024', month: '01', day: '05' };

describe('startCrawler', () => {
  test('starts the crawler when it is idle', async () => {
    const w = fakeWorld();
    const out = await startCrawler(
      { dataset: 'orders', executionArn: ARN, requestedAt: '2024-03-01T09:59:00Z' },
      w.deps,
      log,
    );
    expect(out).toMatchObject({ started: true, attached: false, crawlerName: 'sluice-test-orders-raw' });
    expect(w.crawlers.starts).toBe(1);
  });

  test('attaches to a crawl that began after the request instead of starting another', async () => {
    const w = fakeWorld();
    w.crawlers.runningSince('2024-03-01T10:00:30Z', 5);
    const out = await startCrawler(
      { dataset: 'orders', executionArn: ARN, requestedAt: '2024-03-01T10:00:00Z' },
      w.deps,
      log,
    );
    expect(out).toMatchObject({ started: true, attached: true, startedAt: '2024-03-01T10:00:30Z' });
    expect(w.crawlers.starts).toBe(0);
  });

  test('asks to wait when the running crawl began before the files landed', async () => {
    const w = fakeWorld();
    w.crawlers.runningSince('2024-03-01T09:00:00Z', 5);
    const out = await startCrawler(
      { dataset: 'orders', executionArn: ARN, requestedAt: '2024-03-01T10:00:00Z' },
      w.deps,
      log,
    );
    expect(out).toMatchObject({ started: false, waitSeconds: 15 });
  });
});

describe('checkCrawler', () => {
  test('fails with the crawler own message when the crawl is cancelled', async () => {
    const w = fakeWorld();
    w.crawlers.status = {
      state: 'READY',
      lastCrawl: { status: 'CANCELLED', startedAt: '2024-03-01T10:00:01Z', errorMessage: 'stopped by admin' },
    };
    const crawl = {
      crawlerName: 'c',
      started: true,
      done: false,
      requestedAt: '2024-03-01T10:00:00Z',
      startedAt: '2024-03-01T10:00:01Z',
      waitSeconds: 1,
    };
    await expect(checkCrawler({ dataset: 'orders', executionArn: ARN, crawl }, w.deps, log)).rejects.toThrow(
      /crawler c ended CANCELLED: stopped by admin/,
    );
  });
});

describe('startJobRun', () => {
  test('passes partition, source, target, mapping and run key as job arguments', async () => {
    const w = fakeWorld();
    await startJobRun({ dataset: 'orders', partition: P, executionArn: ARN }, w.deps, log);
    expect(w.jobs.runs[0]?.arguments).toMatchObject({
      '--sluice_partition': JSON.stringify(P),
      '--sluice_source_path': 's3://raw-bucket/orders/year=2024/month=01/day=05/',
      '--sluice_target_path': 's3://curated-bucket/orders/year=2024/month=01/day=05/',
      '--sluice_run_key': jobRunKey(ARN, 'year=2024/month=01/day=05'),
    });
  });

  test('refuses a partition value outside its pattern before anything starts', async () => {
    const w = fakeWorld();
    await expect(
      startJobRun({ dataset: 'orders', partition: { ...P, day: '32' }, executionArn: ARN }, w.deps, log),
    ).rejects.toThrow(InvalidPartitionError);
    expect(w.jobs.runs).toHaveLength(0);
  });

  test('a run key differs per execution and per partition', () => {
    expect(jobRunKey(ARN, 'a')).not.toBe(jobRunKey(ARN, 'b'));
    expect(jobRunKey(ARN, 'a')).not.toBe(jobRunKey(`${ARN}x`, 'a'));
    expect(jobRunKey(ARN, 'a')).toMatch(/^sk1-[0-9a-f]{40}$/);
  });
});

describe('checkJobRun', () => {
  test.each(['FAILED', 'TIMEOUT', 'STOPPED', 'ERROR', 'EXPIRED'] as const)(
    'turns %s into a failed result with its message',
    async (state) => {
      const w = fakeWorld();
      w.jobs.script = () => ({ pollsToFinish: 0, finalState: state, errorMessage: `x`.repeat(500) });
      const job = await startJobRun({ dataset: 'orders', partition: P, executionArn: ARN }, w.deps, log);
      const out = await checkJobRun({ dataset: 'orders', partition: P, executionArn: ARN, job }, w.deps, log);
      expect(out.done).toBe(true);
      expect(out.result).toMatchObject({ ok: false, state });
      expect(out.result?.message?.length).toBeLessThanOrEqual(200);
    },
  );

  test('keeps polling a running run with a growing interval', async () => {
    const w = fakeWorld();
    w.jobs.script = () => ({ pollsToFinish: 10, finalState: 'SUCCEEDED' });
    const job = await startJobRun({ dataset: 'orders', partition: P, executionArn: ARN }, w.deps, log);
    w.clock.advance(1200);
    const out = await checkJobRun({ dataset: 'orders', partition: P, executionArn: ARN, job }, w.deps, log);
    expect(out).toMatchObject({ done: false, waitSeconds: 300 });
  });
});

describe('the Athena statement', () => {
  // Partition values are typed as the config says (int keys unquoted; issue 11).
  test('adds every partition with its location, IF NOT EXISTS', () => {
    const dataset = fakeWorld().deps.config.datasets[0]!;
    expect(addPartitionsStatement(dataset, [P])).toBe(
      "ALTER TABLE `orders` ADD IF NOT EXISTS\n  PARTITION (`year` = 2024, `month` = 1, `day` = 5) LOCATION 's3://curated-bucket/orders/year=2024/month=01/day=05/'",
    );
  });

  test('refuses values that could break out of the literal', () => {
    const dataset = fakeWorld().deps.config.datasets[1]!;
    expect(() => addPartitionsStatement(dataset, [{ dt: "2024-01-01' OR '1", hour: '01' }])).toThrow(
      InvalidPartitionError,
    );
  });
});

describe('claimArrivals', () => {
  test('claims settled partitions; later arrivals stay pending', async () => {
    const w = fakeWorld();
    await w.arrivals.recordArrival({
      dataset: 'orders',
      partitionKey: 'year=2024/month=01/day=05',
      objectKey: 'k1',
      sequencer: '1',
      size: 1,
      arrivedAt: '',
    });
    w.clock.advance(120);
    const pending = await w.arrivals.pendingSummary('orders');
    // Only the lease holder claims (docs/protocol.md): the run holds its lease from its first step.
    await w.leases.acquire('orders', ARN, w.clock.now(), 600);
    const out = await claimArrivals({ dataset: 'orders', executionArn: ARN }, w.deps, log);
    expect(out).toMatchObject({ settled: true, partitionCount: 1 });
    expect(await claimedList(w.deps, out)).toEqual([P]);
    // The arrival times the DebounceWait and LandingToQueryable metrics are measured from.
    expect(out).toMatchObject({ firstArrivalAt: pending?.firstArrivalAt, lastArrivalAt: pending?.lastArrivalAt });
    expect(out.firstArrivalAt).toEqual(expect.any(String));
    await w.arrivals.recordArrival({
      dataset: 'orders',
      partitionKey: 'year=2024/month=01/day=06',
      objectKey: 'k2',
      sequencer: '1',
      size: 1,
      arrivedAt: '',
    });
    expect(await w.arrivals.pendingSummary('orders')).toMatchObject({ partitions: 1 });
  });
});

describe('releaseLease', () => {
  test('only the owner releases the lease', async () => {
    const w = fakeWorld();
    await w.leases.acquire('orders', 'other', w.clock.now(), 600);
    const out = await releaseLease(
      { dataset: 'orders', executionArn: ARN, outcome: 'succeeded', runStartedAt: '2024-03-01T10:00:00Z' },
      w.deps,
      log,
    );
    expect(out).toEqual({ released: false });
    expect((await w.leases.current('orders'))?.owner).toBe('other');
  });
});

describe('notifyFailure', () => {
  test('reads the message out of a Lambda error cause', () => {
    expect(readCause(JSON.stringify({ errorType: 'X', errorMessage: 'the reason', trace: ['a', 'b'] }))).toBe(
      'the reason',
    );
    expect(readCause('plain')).toBe('plain');
  });

  test('publishes dataset, stage, step, error, console link and re-run input', async () => {
    const w = fakeWorld();
    const run = {
      dataset: 'orders',
      stage: 'test',
      mode: 'manual' as const,
      executionArn: ARN,
      skipCrawler: false,
      maxConcurrency: 5,
    };
    const out = await notifyFailure(
      {
        executionArn: ARN,
        state: {
          run,
          partitions: [P],
          crawl: { crawlerName: 'c', started: true, done: true, requestedAt: '', waitSeconds: 0 },
          failure: { startPartitionRefresh: { Error: 'AthenaQueryFailedError', Cause: 'nope' } },
        },
      },
      w.deps,
      log,
    );
    expect(out.report).toMatchObject({
      dataset: 'orders',
      stage: 'test',
      failedStep: 'startPartitionRefresh',
      error: 'AthenaQueryFailedError',
      cause: 'nope',
      rerunInput: { dataset: 'orders', partitions: [P], skipCrawler: true },
    });
    const sent = w.notifier.published[0]!;
    expect(sent.subject).toBe('sluice test: orders failed at startPartitionRefresh');
    expect(sent.message).toContain(`https://console.example/${ARN}`);
    expect(sent.attributes).toEqual({
      dataset: 'orders',
      stage: 'test',
      failedStep: 'startPartitionRefresh',
      error: 'AthenaQueryFailedError',
    });
  });
});

describe('issue 10, risks decided', () => {
  const DEAD = 'arn:aws:states:eu-west-1:1:execution:sm:dead';

  test('a dead execution’s job run still writing the partition: the new run waits for it, never a second writer', async () => {
    const w = fakeWorld();
    w.jobs.script = () => ({ pollsToFinish: 2, finalState: 'SUCCEEDED' });
    const first = await startJobRun({ dataset: 'orders', executionArn: DEAD, partition: P }, w.deps, log);
    const other = { year: '2024', month: '01', day: '06' };
    await expect(
      startJobRun({ dataset: 'orders', executionArn: ARN, partition: P }, w.deps, log),
    ).rejects.toMatchObject({ name: 'ConcurrentRunsExceededError', message: expect.stringContaining(first.runId) });
    // Another partition is not held up, and the same execution's retry still attaches to its own run.
    await expect(
      startJobRun({ dataset: 'orders', executionArn: ARN, partition: other }, w.deps, log),
    ).resolves.toMatchObject({ attached: false });
    await expect(
      startJobRun({ dataset: 'orders', executionArn: DEAD, partition: P }, w.deps, log),
    ).resolves.toMatchObject({ attached: true });
    expect(w.jobs.runs).toHaveLength(2);
    while (w.jobs.alive() > 0) for (const r of w.jobs.runs) await w.jobs.getJobRun('j', r.id);
    await expect(
      startJobRun({ dataset: 'orders', executionArn: ARN, partition: P }, w.deps, log),
    ).resolves.toMatchObject({ attached: false });
    expect(w.jobs.runs).toHaveLength(3);
  });

  describe('manual runs take part in the lease', () => {
    const manual = { dataset: 'orders', partitions: [P], skipCrawler: true };

    test('refused with LeaseHeldError, naming the active run and the input to start again, while a run is active', async () => {
      const w = fakeWorld();
      await w.leases.acquire('orders', DEAD, w.clock.now(), 600);
      await expect(prepareRun({ request: manual, executionArn: ARN }, w.deps, log)).rejects.toMatchObject({
        name: 'LeaseHeldError',
        message: expect.stringMatching(/already has an active run: .*dead.*"partitions"/),
      });
      expect((await w.leases.current('orders'))?.owner).toBe(DEAD);
    });

    test('holds the lease while it works: arrivals meanwhile start no run; its release starts the follow-up', async () => {
      const w = fakeWorld();
      await prepareRun({ request: manual, executionArn: ARN }, w.deps, log);
      expect((await w.leases.current('orders'))?.owner).toBe(ARN);
      await w.arrivals.recordArrival({
        dataset: 'orders',
        partitionKey: 'year=2024/month=01/day=07',
        objectKey: 'k',
        sequencer: '1',
        size: 1,
        arrivedAt: '',
      });
      expect(await ensureRunActive('orders', 'arrival', w.deps, log)).toBeNull();
      const out = await releaseLease(
        { dataset: 'orders', executionArn: ARN, outcome: 'succeeded', runStartedAt: '2024-03-01T10:00:00Z', state: {} },
        w.deps,
        log,
      );
      expect(out).toMatchObject({ released: true, followUpExecutionArn: expect.any(String) });
    });

    test('an invalid manual input takes no lease (its failure path has no run context to release one)', async () => {
      const w = fakeWorld();
      const bad = { dataset: 'orders', partitions: [{ year: '2024', month: '13', day: '01' }] };
      await expect(prepareRun({ request: bad, executionArn: ARN }, w.deps, log)).rejects.toMatchObject({
        name: 'InvalidPartitionError',
      });
      expect(await w.leases.current('orders')).toBeNull();
    });
  });

  describe('the crawler-already-running race decides by the crawl’s start time', () => {
    const requestedAt = '2024-03-01T10:00:00Z';
    const racedBy = (w: ReturnType<typeof fakeWorld>, startedAt: string | undefined) => {
      // Idle when we look; someone starts a crawl before our StartCrawler call lands.
      const start = w.crawlers.startCrawler.bind(w.crawlers);
      jest.spyOn(w.crawlers, 'startCrawler').mockImplementationOnce(async () => {
        w.crawlers.status = { state: 'RUNNING', ...(startedAt ? { currentCrawlStartedAt: startedAt } : {}) };
        return start();
      });
    };

    test('a crawl that began before our request may miss our files: wait and start ours after it', async () => {
      const w = fakeWorld();
      racedBy(w, '2024-03-01T09:59:59Z');
      const out = await startCrawler({ dataset: 'orders', executionArn: ARN, requestedAt }, w.deps, log);
      expect(out).toMatchObject({ started: false });
      expect(w.crawlers.starts).toBe(0);
    });

    test('a crawl with no start time shown is not trusted either', async () => {
      const w = fakeWorld();
      racedBy(w, undefined);
      const out = await startCrawler({ dataset: 'orders', executionArn: ARN, requestedAt }, w.deps, log);
      expect(out).toMatchObject({ started: false });
    });

    test('a crawl that began at or after our request sees our files: attach to it', async () => {
      const w = fakeWorld();
      racedBy(w, requestedAt);
      const out = await startCrawler({ dataset: 'orders', executionArn: ARN, requestedAt }, w.deps, log);
      expect(out).toMatchObject({ started: true, attached: true, startedAt: requestedAt });
    });
  });
});
