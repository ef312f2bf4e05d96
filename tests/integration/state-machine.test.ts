/**
 * The real ASL file, run by aws-local-stepfunctions, with every Task wired to the real step (validation + core)
 * over in-memory ports. Waits and retry pauses are overridden to 0.
 */
import { parseS3Uri } from '../../domain/common';
import { RUN_LEASE_SECONDS, STARTUP_LEASE_SECONDS } from '../../domain/runs/protocol';
import { allStates, loadDefinition, type LocalRunResult } from '../../runtime/state-machine';
import { fakeWorld, type FakeWorld } from '../support/fakes';
import { arrive, EXECUTION_ARN, runAutomatic, runManual, statesEntered } from '../support/machine';

const FIVE_DAYS = ['01', '02', '03', '04', '05'].map((day) => ({ year: '2024', month: '01', day }));

/** The partitions a manifest re-run input names (issue 12: failed partitions are stored as an object). */
async function manifestPartitions(world: FakeWorld, rerunInput: unknown): Promise<unknown> {
  const text = await world.artifacts.get(parseS3Uri(String((rerunInput as { manifest?: unknown }).manifest)));
  return text === null ? null : JSON.parse(text);
}

/** Names of states entered, Map children included. */
const statesEnteredAnywhere = (result: LocalRunResult): string[] =>
  result.events.filter((e) => e.type === 'StateEntered').map((e) => e.state?.name ?? '');

function expectFailedOnceWithNotification(world: FakeWorld, result: LocalRunResult): Record<string, unknown> {
  expect(result.status).toBe('FAILED');
  expect(result.error).toBe('SluiceRunFailed');
  expect(world.notifier.published).toHaveLength(1);
  return world.notifier.report(0);
}

describe('an automatic run', () => {
  test('debounces, crawls, runs one job per partition, registers them and releases the lease', async () => {
    const world = fakeWorld();
    await arrive(world, 'orders', 'year=2024/month=01/day=05');
    await arrive(world, 'orders', 'year=2024/month=01/day=06', 'orders/year=2024/month=01/day=06/a.csv');

    const result = await runAutomatic(world);

    expect(result.status).toBe('SUCCEEDED');
    expect(world.crawlers.starts).toBe(1);
    expect(world.jobs.runs.map((r) => JSON.parse(r.arguments['--sluice_partition'] ?? '{}'))).toEqual(
      expect.arrayContaining([
        { year: '2024', month: '01', day: '05' },
        { year: '2024', month: '01', day: '06' },
      ]),
    );
    expect(world.queries.started).toHaveLength(1);
    // int keys are int literals (issue 9, defect 12); the LOCATION keeps the folder's own spelling.
    expect(world.queries.started[0]?.sql).toContain('PARTITION (`year` = 2024, `month` = 1, `day` = 6)');
    expect(world.notifier.published).toHaveLength(0);
    expect(await world.leases.current('orders')).toBeNull();
  });

  test('keeps waiting while arrivals keep coming, until the maximum wait cuts the burst', async () => {
    const world = fakeWorld();
    await arrive(world, 'orders', 'year=2024/month=01/day=05');
    let claims = 0;
    const result = await runAutomatic(world, 'orders', {
      intercept: async (stepId, _input, _state, invoke) => {
        if (stepId === 'claimArrivals') {
          claims += 1;
          world.clock.advance(20); // a Wait passed...
          await arrive(
            world,
            'orders',
            'year=2024/month=01/day=05',
            `orders/year=2024/month=01/day=05/${claims}.csv`,
            `${claims}`,
          );
        }
        return invoke();
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    // quiet period 60 s is never reached (an arrival every ~20 s); max wait 300 s ends the debounce.
    expect(claims).toBeGreaterThan(5);
    expect(world.arrivals.claims).toHaveLength(1);
    expect(world.jobs.runs).toHaveLength(1);
  });

  test('with nothing pending ends successfully without crawling', async () => {
    const world = fakeWorld();
    const result = await runAutomatic(world);
    expect(result.status).toBe('SUCCEEDED');
    expect(world.crawlers.starts).toBe(0);
    expect(statesEntered(result)).toContain('Release the run lease');
  });

  test('waits for a crawl that began before its files landed, then starts its own', async () => {
    const world = fakeWorld();
    await arrive(world, 'orders', 'year=2024/month=01/day=05');
    world.crawlers.runningSince('2024-03-01T09:00:00Z', 3);
    const result = await runAutomatic(world);
    expect(result.status).toBe('SUCCEEDED');
    expect(world.crawlers.starts).toBe(1);
    expect(statesEntered(result)).toContain('Wait for the earlier crawl to finish');
  });

  test('starts a follow-up run at once when arrivals came in during the run', async () => {
    const world = fakeWorld();
    await arrive(world, 'orders', 'year=2024/month=01/day=05');
    const result = await runAutomatic(world, 'orders', {
      intercept: async (stepId, _input, _state, invoke) => {
        if (stepId === 'startCrawler')
          await arrive(world, 'orders', 'year=2024/month=01/day=07', 'orders/year=2024/month=01/day=07/late.csv');
        return invoke();
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(world.executions.started).toHaveLength(1);
    expect(world.executions.started[0]?.input).toEqual({ dataset: 'orders', trigger: 'follow-up' });
    expect((await world.leases.current('orders'))?.owner).toContain(world.executions.started[0]?.name);
  });

  test('extends the start-up lease to the run lifetime in its first step', async () => {
    const world = fakeWorld();
    const start = world.clock.current;
    let checked = false;
    // runAutomatic rethrows a failed expectation from the intercept after the run, and asserts the outcome:
    // the ASL's Catch cannot swallow either.
    await runAutomatic(world, 'orders', {
      expectStatus: 'SUCCEEDED',
      intercept: async (stepId, _input, _state, invoke) => {
        const out = await invoke();
        if (stepId === 'prepareRun') {
          const lease = await world.leases.current('orders');
          expect(lease?.owner).toBe(EXECUTION_ARN);
          expect(Date.parse(lease?.expiresAt ?? '') - start).toBeGreaterThanOrEqual((RUN_LEASE_SECONDS - 60) * 1000);
          checked = true;
        }
        return out;
      },
    });
    expect(checked).toBe(true);
  });
});

describe('a manual run', () => {
  test('skips the debounce and processes exactly the requested partitions', async () => {
    const world = fakeWorld();
    const result = await runManual(world, { dataset: 'orders', partitions: FIVE_DAYS.slice(0, 2), skipCrawler: false });
    expect(result.status).toBe('SUCCEEDED');
    const states = statesEntered(result);
    expect(states).not.toContain('Wait for arrivals to settle');
    expect(states).not.toContain('Claim the settled arrivals');
    expect(world.jobs.runs).toHaveLength(2);
    expect(world.crawlers.starts).toBe(1);
  });

  test('with skipCrawler goes straight to the partitions', async () => {
    const world = fakeWorld();
    const result = await runManual(world, { dataset: 'orders', partitions: FIVE_DAYS, skipCrawler: true });
    expect(result.status).toBe('SUCCEEDED');
    expect(world.crawlers.starts).toBe(0);
    expect(world.jobs.runs).toHaveLength(5);
  });

  test('with an invalid partition value fails validation, names the field, and notifies once', async () => {
    const world = fakeWorld();
    const result = await runManual(world, {
      dataset: 'orders',
      partitions: [{ year: '2024', month: '13', day: '01' }],
    });
    const report = expectFailedOnceWithNotification(world, result);
    expect(report.failedStep).toBe('prepareRun');
    expect(report.error).toBe('InvalidPartitionError');
    expect(String(report.cause)).toContain('/partitions/0');
    expect(String(report.cause)).toContain('month="13"');
    expect(world.jobs.runs).toHaveLength(0);
  });

  test('with an unknown field is rejected by the input schema', async () => {
    const world = fakeWorld();
    const result = await runManual(world, { dataset: 'orders', partitions: FIVE_DAYS, skipCrawlr: true });
    const report = expectFailedOnceWithNotification(world, result);
    expect(report.error).toBe('InvalidInputError');
    expect(report.rerunInput).toBeNull();
  });
});

describe('failures notify SNS exactly once and end failed', () => {
  test('a failed crawl carries the crawler message', async () => {
    const world = fakeWorld();
    await arrive(world, 'orders', 'year=2024/month=01/day=05');
    world.crawlers.script = {
      pollsToFinish: 1,
      outcome: 'FAILED',
      errorMessage: 'Internal Service Exception: classifier broke',
    };
    const result = await runAutomatic(world);
    const report = expectFailedOnceWithNotification(world, result);
    expect(report.failedStep).toBe('checkCrawler');
    expect(report.error).toBe('CrawlerFailedError');
    expect(String(report.cause)).toContain('classifier broke');
    // Issue 12: the re-run input names the run's partition list by reference (a manifest), whatever its size.
    expect(report.rerunInput).toEqual({
      dataset: 'orders',
      manifest: 's3://sluice-test-artifacts/runs/sluice-test/run-1/partitions.json',
      skipCrawler: false,
    });
    expect(await manifestPartitions(world, report.rerunInput)).toEqual([{ year: '2024', month: '01', day: '05' }]);
    expect(world.jobs.runs).toHaveLength(0);
    expect(await world.leases.current('orders')).toBeNull();
  });

  test('one of five partitions failing lets the other four finish and register, and names the failed one', async () => {
    const world = fakeWorld();
    world.jobs.script = (args) =>
      JSON.parse(args['--sluice_partition'] ?? '{}').day === '03'
        ? { pollsToFinish: 2, finalState: 'FAILED', errorMessage: 'AnalysisException: cannot cast' }
        : { pollsToFinish: 3, finalState: 'SUCCEEDED' };
    const result = await runManual(world, { dataset: 'orders', partitions: FIVE_DAYS, skipCrawler: true });
    const report = expectFailedOnceWithNotification(world, result);
    expect(world.jobs.runs.filter((r) => r.state === 'SUCCEEDED')).toHaveLength(4);
    expect(report.failedStep).toBe('processPartitions');
    expect(report.failedPartitions).toEqual([
      {
        partition: { year: '2024', month: '01', day: '03' },
        ok: false,
        state: 'FAILED',
        message: 'AnalysisException: cannot cast',
      },
    ]);
    expect(report.rerunInput).toEqual({
      dataset: 'orders',
      manifest: 's3://sluice-test-artifacts/runs/sluice-test/run-1/failed-partitions.json',
      skipCrawler: true,
    });
    expect(await manifestPartitions(world, report.rerunInput)).toEqual([{ year: '2024', month: '01', day: '03' }]);
    expect(world.queries.started[0]?.sql.match(/PARTITION \(/g)).toHaveLength(4);
  });

  test.each(['TIMEOUT', 'STOPPED', 'ERROR', 'EXPIRED'] as const)(
    'a job run ending %s is a failed partition',
    async (finalState) => {
      const world = fakeWorld();
      world.jobs.script = () => ({ pollsToFinish: 0, finalState });
      const result = await runManual(world, {
        dataset: 'orders',
        partitions: FIVE_DAYS.slice(0, 1),
        skipCrawler: true,
      });
      const report = expectFailedOnceWithNotification(world, result);
      expect((report.failedPartitions as Array<{ state: string }>)[0]?.state).toBe(finalState);
      expect(world.queries.started).toHaveLength(0);
    },
  );

  test('the Athena DDL failing fails the run with the query reason', async () => {
    const world = fakeWorld();
    world.queries.outcome = { state: 'FAILED', reason: 'FAILED: SemanticException table not found' };
    const result = await runManual(world, { dataset: 'orders', partitions: FIVE_DAYS.slice(0, 2), skipCrawler: true });
    const report = expectFailedOnceWithNotification(world, result);
    expect(report.failedStep).toBe('checkPartitionRefresh');
    expect(report.error).toBe('AthenaQueryFailedError');
    expect(String(report.cause)).toContain('table not found');
    expect(report.consoleUrl).toContain(EXECUTION_ARN);
  });

  test('job runs that keep hitting the concurrency limit are retried, then reported as failed partitions', async () => {
    const world = fakeWorld();
    world.jobs.concurrentRunsLimit = 0;
    const result = await runManual(world, { dataset: 'orders', partitions: FIVE_DAYS.slice(0, 1), skipCrawler: true });
    const report = expectFailedOnceWithNotification(world, result);
    expect(world.jobs.startCalls).toBe(9); // 1 + 8 retries (Retry MaxAttempts 8)
    expect((report.failedPartitions as Array<{ message: string }>)[0]?.message).toBe('ConcurrentRunsExceededError');
  });

  // Every Task state: make its step throw a fatal error, and the run must notify once and end failed.
  const taskStates = allStates(loadDefinition().States)
    .filter(([, s]) => s.Type === 'Task')
    .map(([name]) => name)
    .filter(
      (name) => name !== 'Publish the failure notification' && name !== 'Release the run lease after the failure',
    );
  test.each(taskStates)('a fatal error in "%s" notifies once and ends failed', async (stateName) => {
    const world = fakeWorld();
    await arrive(world, 'orders', 'year=2024/month=01/day=05');
    if (stateName === 'Start the next registration wave') {
      // Issue 23: a second wave needs more statements than one wave holds: two partitions, one per statement and wave.
      Object.assign(world.deps.config.athena, { partitionsPerStatement: 1, maxActiveDdl: 1 });
      await arrive(world, 'orders', 'year=2024/month=01/day=06');
    }
    const fail = async (sid: string, _input: unknown, state: string, invoke: () => Promise<unknown>) => {
      if (state === stateName) {
        const error = new Error(`injected failure in ${sid}`);
        error.name = 'GlueEntityNotFoundError';
        throw error;
      }
      return invoke();
    };
    // The Check states are the fallback of the token waits (issue 13): they run only when no event came and the
    // re-check path is broken too, so the Task's heartbeat expired while the work was still running.
    const fallbackCheck = stateName.startsWith('Check the');
    if (fallbackCheck) world.queries.outcome = { state: 'RUNNING' };
    const result = await runAutomatic(world, 'orders', {
      intercept: fail,
      ...(fallbackCheck ? { waits: { rechecks: false } } : {}),
    });
    const report = expectFailedOnceWithNotification(world, result);
    if (fallbackCheck) expect(statesEnteredAnywhere(result)).toContain(stateName);
    const insideMap = ['Start the job run', 'Wait for the job run', 'Check the job run'].includes(stateName);
    if (insideMap) {
      // Inside the Map a failed partition is a result: the run goes on and names the partition.
      expect(report.failedPartitions).toEqual([
        {
          partition: { year: '2024', month: '01', day: '05' },
          ok: false,
          state: 'ERROR',
          message: 'GlueEntityNotFoundError',
        },
      ]);
    } else {
      expect(String(report.cause)).toContain('injected failure');
    }
    const lease = await world.leases.current('orders');
    if (stateName === 'Validate the run request') {
      // No run context yet: the intake's short start-up lease is left to expire on its own.
      expect(Date.parse(lease?.expiresAt ?? '') - world.clock.current).toBeLessThanOrEqual(
        STARTUP_LEASE_SECONDS * 1000,
      );
    } else {
      expect(lease?.owner).not.toBe(EXECUTION_ARN);
    }
  });

  test('the run still ends failed when SNS itself is down, and hands its unnotified arrivals to a follow-up', async () => {
    const world = fakeWorld();
    world.crawlers.script = { pollsToFinish: 0, outcome: 'CANCELLED', errorMessage: undefined };
    await arrive(world, 'orders', 'year=2024/month=01/day=05');
    const result = await runAutomatic(world, 'orders', {
      intercept: async (sid, _i, _s, invoke) => {
        if (sid === 'notifyFailure') throw Object.assign(new Error('SNS is down'), { name: 'AwsThrottledError' });
        return invoke();
      },
    });
    expect(result.status).toBe('FAILED');
    // No notification named its partition, so the arrival is not dealt with (I1): the release hands the lease
    // straight to a follow-up run instead of freeing it.
    const lease = await world.leases.current('orders');
    expect(lease?.owner).not.toBe(EXECUTION_ARN);
    expect(lease?.starting?.input).toMatchObject({ dataset: 'orders', trigger: 'follow-up' });
    expect(await world.arrivals.pendingSummary('orders')).toMatchObject({ partitions: 1 });
  });
});

describe('a step that times out after starting its work is retried and attaches to that work', () => {
  const timeoutOnceAfterStart = (target: string) => {
    const seen = new Set<string>();
    return async (stepId: string, input: unknown, _state: string, invoke: () => Promise<unknown>) => {
      const out = await invoke();
      const key = `${stepId}:${JSON.stringify(input)}`;
      if (stepId === target && !seen.has(key)) {
        seen.add(key);
        throw Object.assign(new Error('Task timed out after 60.00 seconds'), { name: 'States.Timeout' });
      }
      return out;
    };
  };

  test('startJobRun: one Glue run per partition', async () => {
    const world = fakeWorld();
    const result = await runManual(
      world,
      { dataset: 'orders', partitions: FIVE_DAYS, skipCrawler: true },
      { intercept: timeoutOnceAfterStart('startJobRun') },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(result.events.filter((e) => e.type === 'StateRetried')).toHaveLength(5);
    expect(world.jobs.runs).toHaveLength(5);
    expect(new Set(world.jobs.runs.map((r) => r.arguments['--sluice_run_key'])).size).toBe(5);
  });

  test('startCrawler: one crawl', async () => {
    const world = fakeWorld();
    await arrive(world, 'orders', 'year=2024/month=01/day=05');
    const result = await runAutomatic(world, 'orders', { intercept: timeoutOnceAfterStart('startCrawler') });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.events.some((e) => e.type === 'StateRetried' && e.state?.name === 'Start the crawler')).toBe(true);
    expect(world.crawlers.starts).toBe(1);
  });

  test('startPartitionRefresh: one Athena statement, registered once', async () => {
    const world = fakeWorld();
    const result = await runManual(
      world,
      { dataset: 'orders', partitions: FIVE_DAYS, skipCrawler: true },
      { intercept: timeoutOnceAfterStart('startPartitionRefresh') },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(
      result.events.some((e) => e.type === 'StateRetried' && e.state?.name === 'Register the new partitions in Athena'),
    ).toBe(true);
    expect(world.queries.started).toHaveLength(1);
  });
});
