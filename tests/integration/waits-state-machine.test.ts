/**
 * Issue 13: the real ASL, with the in-memory ports, where every wait (crawler, each job run, the Athena
 * registration) is a `.waitForTaskToken` Task answered through the same completion code as on AWS:
 * functions/complete-wait's step for state-change events on the local bus, functions/recheck-wait's step for the
 * fallback re-checks (simulated time). Work "finishes" when the run is otherwise idle (the runner's progress hook):
 * the fake job run, crawl or query ends and its state-change event is published -- or lost, or duplicated.
 * Every scenario asserts the run's outcome and the state transitions (StateEntered events) it took.
 */
import { LocalEventBus, type BusFaults } from '../../adapters/local/event-bus';
import {
  athenaQueryStateChange,
  glueCrawlerStateChange,
  glueJobStateChange,
} from '../../adapters/local/state-change-events';
import type { LocalRunResult } from '../../runtime/state-machine';
import type { LocalTokenWaits } from '../../runtime/token-waits';
import type { QueryStateName } from '../../domain/common';
import { fakeWorld, type FakeWorld } from '../support/fakes';
import { runManual } from '../support/machine';

const DAYS = ['01', '02', '03'].map((day) => ({ year: '2024', month: '01', day }));
const CHECK_STATES = ['Check the crawler', 'Check the job run', 'Check the Athena registration'];

/** The work outside the state machine, and the events it publishes when it ends. */
function lake(world: FakeWorld, bus: LocalEventBus, query: { state: QueryStateName; reason?: string }) {
  const announced = new Set<string>();
  const crawler = world.deps.config.datasets[0]!.crawler.name;
  // Athena's DDL runs until the lake says it ended (the in-memory query port answers one outcome for every query).
  world.queries.outcome = { state: 'RUNNING' };
  let crawls = 0;
  return {
    /** The runner's progress hook: whatever is running ends now, and says so on the bus. */
    async progress(): Promise<boolean> {
      let ended = false;
      for (const run of world.jobs.runs)
        if (run.state === 'RUNNING' && !announced.has(run.id)) {
          announced.add(run.id);
          run.pollsLeft = 0; // the next read sees its final state
          bus.publish(glueJobStateChange(run.jobName, run.id, run.script.finalState));
          ended = true;
        }
      if (world.crawlers.status.state === 'RUNNING' && world.crawlers.starts > crawls) {
        crawls = world.crawlers.starts;
        while ((await world.crawlers.getCrawlerStatus()).state === 'RUNNING'); // the crawl ends
        const outcome = world.crawlers.status.lastCrawl?.status;
        bus.publish(glueCrawlerStateChange(crawler, outcome === 'SUCCEEDED' ? 'Succeeded' : 'Failed'));
        ended = true;
      }
      if (world.queries.outcome.state === 'RUNNING' && world.queries.started.length > 0) {
        world.queries.outcome = query;
        for (const q of world.queries.started)
          bus.publish(athenaQueryStateChange(q.id, query.state, 'RUNNING', world.deps.config.athena.workgroup));
        ended = true;
      }
      return ended;
    },
  };
}

interface Observed {
  result: LocalRunResult;
  waits: LocalTokenWaits;
  bus: LocalEventBus;
  /** Transitions (states entered) of each Map child, by item index. */
  perPartition: number[];
  /** Top-level states entered. */
  parent: string[];
}

async function run(
  world: FakeWorld,
  faults: BusFaults = {},
  options: {
    query?: { state: QueryStateName; reason?: string };
    skipCrawler?: boolean;
    partitions?: number;
    rechecks?: boolean;
  } = {},
  extra: Parameters<typeof runManual>[2] = {},
): Promise<Observed> {
  const bus = new LocalEventBus(faults);
  const { progress } = lake(world, bus, options.query ?? { state: 'SUCCEEDED' });
  let waits: LocalTokenWaits | undefined;
  const result = await runManual(
    world,
    {
      dataset: 'orders',
      partitions: DAYS.slice(0, options.partitions ?? 2),
      skipCrawler: options.skipCrawler ?? false,
    },
    {
      waits: {
        bus,
        progress,
        advanceClock: (s) => world.clock.advance(s),
        onReady: (w) => (waits = w),
        ...(options.rechecks === false ? { rechecks: false } : {}),
      },
      ...extra,
    },
  );
  const children = new Map<number, number>();
  for (const e of result.events)
    if (e.index !== undefined && e.type === 'StateEntered') children.set(e.index, (children.get(e.index) ?? 0) + 1);
  const parent = result.events
    .filter((e) => e.type === 'StateEntered' && e.index === undefined)
    .map((e) => e.state?.name ?? '');
  return { result, waits: waits!, bus, perPartition: [...children.values()], parent };
}

const sentAnswers = (waits: LocalTokenWaits) => waits.tokens.answers.filter((a) => a.outcome === 'sent');

describe('job runs, the crawler and the Athena registration complete by event', () => {
  test('every wait is answered by its event: 4 transitions per partition, no Check state, no re-check', async () => {
    const world = fakeWorld();
    const { result, waits, bus, perPartition, parent } = await run(world);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ jobResults: { succeededCount: 2 }, refresh: { done: true } });
    expect(perPartition).toEqual([4, 4]); // Start, Did it already finish?, Wait for the job run (token), Report
    expect(parent).toEqual([
      'Validate the run request',
      'Is this an automatic run?',
      "Check the new files' schemas",
      'Should the crawler run?',
      'Start the crawler',
      'Did the crawler start?',
      'Wait for the crawler',
      'Classify the crawled table',
      'Plan the job runs',
      'Process each partition',
      'Summarize the partition runs',
      'Did any partition succeed?',
      'Register the new partitions in Athena',
      'Have the partitions been registered?',
      'Wait for the Athena registration',
      'Have the partitions been registered?', // issue 23: a finished wave may lead to the next one
      'Did every partition succeed?',
      'Release the run lease',
      'Run succeeded',
    ]);
    expect(bus.published.map((e) => e['detail-type']).sort()).toEqual([
      'Athena Query State Change',
      'Glue Crawler State Change',
      'Glue Job State Change',
      'Glue Job State Change',
    ]);
    expect(waits.counts).toMatchObject({ awaits: 4, rechecks: 0, heartbeatTimeouts: 0 });
    expect(sentAnswers(waits)).toHaveLength(4);
    expect(world.notifier.published).toHaveLength(0);
  });

  test('registration in waves (issue 23): one statement per wave, each wave answered by its events, then the next', async () => {
    const world = fakeWorld();
    Object.assign(world.deps.config.athena, { partitionsPerStatement: 1, maxActiveDdl: 1 });
    const { result, parent, waits } = await run(world, {}, { partitions: 3, skipCrawler: true });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({
      refresh: { done: true, waveDone: true, statementCount: 3, startedStatements: 3, partitionCount: 3 },
    });
    expect(world.queries.started).toHaveLength(3);
    const afterSummary = parent.slice(parent.indexOf('Did any partition succeed?') + 1);
    expect(afterSummary).toEqual([
      'Register the new partitions in Athena',
      'Have the partitions been registered?',
      'Wait for the Athena registration',
      'Have the partitions been registered?',
      'Start the next registration wave',
      'Have the partitions been registered?',
      'Wait for the Athena registration',
      'Have the partitions been registered?',
      'Start the next registration wave',
      'Have the partitions been registered?',
      'Wait for the Athena registration',
      'Have the partitions been registered?',
      'Did every partition succeed?',
      'Release the run lease',
      'Run succeeded',
    ]);
    expect(parent.some((name) => CHECK_STATES.includes(name))).toBe(false);
    expect(waits.counts).toMatchObject({ rechecks: 0, heartbeatTimeouts: 0 });
  });

  test('events lost: the fallback re-checks find every end; still 4 transitions per partition', async () => {
    const world = fakeWorld();
    const { result, waits, bus, perPartition, parent } = await run(world, { withhold: () => true });
    expect(result.status).toBe('SUCCEEDED');
    expect(bus.withheld).toHaveLength(4);
    expect(perPartition).toEqual([4, 4]);
    expect(parent.filter((s) => CHECK_STATES.includes(s))).toEqual([]);
    expect(waits.counts.rechecks).toBeGreaterThanOrEqual(4);
    expect(waits.counts.heartbeatTimeouts).toBe(0);
    expect(sentAnswers(waits)).toHaveLength(4);
  });

  test('events lost and the re-check path broken: each heartbeat expiry runs one Check, then the run goes on', async () => {
    const world = fakeWorld();
    const { result, waits, perPartition, parent } = await run(world, { withhold: () => true }, { rechecks: false });
    expect(result.status).toBe('SUCCEEDED');
    expect(waits.counts.heartbeatTimeouts).toBe(4);
    // + Check the job run, Has the job run finished? (it had ended meanwhile): 6 per partition.
    expect(perPartition).toEqual([6, 6]);
    expect(parent.filter((s) => CHECK_STATES.includes(s))).toEqual([
      'Check the crawler',
      'Check the Athena registration',
    ]);
    expect(world.notifier.published).toHaveLength(0);
  });

  test("an event that arrives before the token is stored: the await step's own check answers", async () => {
    const world = fakeWorld();
    const bus = new LocalEventBus();
    const { progress } = lake(world, bus, { state: 'SUCCEEDED' });
    let waits: LocalTokenWaits | undefined;
    let early = 0;
    const result = await runManual(
      world,
      { dataset: 'orders', partitions: DAYS.slice(0, 1), skipCrawler: true },
      {
        expectStatus: 'SUCCEEDED',
        waits: { bus, progress, onReady: (w) => (waits = w) },
        intercept: async (stepId, _input, _state, invoke) => {
          if (stepId === 'awaitJobRun') {
            // The run ends and its event is handled before the await step records the token.
            await progress();
            early += await bus.deliverAll();
          }
          return invoke();
        },
      },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(early).toBe(1);
    const answers = sentAnswers(waits!);
    expect(answers.filter((a) => a.answer.ok && (a.answer.output as { runId?: string }).runId)).toHaveLength(1);
    expect(waits!.counts.rechecks).toBe(0);
    const child = result.events.filter((e) => e.index !== undefined && e.type === 'StateEntered');
    expect(child).toHaveLength(4);
  });

  test('duplicate events: one answer per token, the copies change nothing', async () => {
    const world = fakeWorld();
    const { result, waits, bus, perPartition } = await run(world, { copies: () => 2 });
    expect(result.status).toBe('SUCCEEDED');
    expect(bus.published).toHaveLength(4);
    expect(bus.failures).toEqual([]);
    expect(perPartition).toEqual([4, 4]);
    expect(sentAnswers(waits)).toHaveLength(4);
    expect(world.jobs.runs).toHaveLength(2);
    expect(world.notifier.published).toHaveLength(0);
  });

  test('an event for a job run that failed: a failed partition, the others registered, one notification', async () => {
    const world = fakeWorld();
    world.jobs.script = (args) =>
      JSON.parse(args['--sluice_partition'] ?? '{}').day === '02'
        ? { pollsToFinish: 5, finalState: 'FAILED', errorMessage: 'AnalysisException: cannot cast' }
        : { pollsToFinish: 5, finalState: 'SUCCEEDED' };
    const { result, waits, perPartition } = await run(world, {}, { partitions: 3 });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('SluiceRunFailed');
    expect(perPartition).toEqual([4, 4, 4]);
    expect(waits.counts.rechecks).toBe(0);
    expect(world.notifier.published).toHaveLength(1);
    expect(world.notifier.report(0)).toMatchObject({
      failedPartitions: [{ partition: DAYS[1], ok: false, state: 'FAILED', message: 'AnalysisException: cannot cast' }],
    });
    expect(world.queries.started[0]?.sql.match(/PARTITION \(/g)).toHaveLength(2);
  });

  test('a crawl that fails, by event: CrawlerFailedError reaches the Catch and the one notification', async () => {
    const world = fakeWorld();
    world.crawlers.script = { pollsToFinish: 5, outcome: 'FAILED', errorMessage: 'Internal Service Exception' };
    const { result, waits, parent } = await run(world);
    expect(result.status).toBe('FAILED');
    expect(waits.tokens.answers).toEqual([
      expect.objectContaining({
        outcome: 'sent',
        answer: expect.objectContaining({ ok: false, error: 'CrawlerFailedError' }),
      }),
    ]);
    expect(parent.slice(0, 8)).toEqual([
      'Validate the run request',
      'Is this an automatic run?',
      "Check the new files' schemas",
      'Should the crawler run?',
      'Start the crawler',
      'Did the crawler start?',
      'Wait for the crawler',
      'Publish the failure notification',
    ]);
    const report = world.notifier.report(0);
    expect(report).toMatchObject({ failedStep: 'checkCrawler', error: 'CrawlerFailedError' });
    expect(String(report.cause)).toContain('Internal Service Exception');
    expect(world.notifier.published).toHaveLength(1);
    expect(world.jobs.runs).toHaveLength(0);
  });

  test('an Athena registration that fails, by event: AthenaQueryFailedError, one notification', async () => {
    const world = fakeWorld();
    const { result, parent } = await run(world, {}, { query: { state: 'FAILED', reason: 'SemanticException' } });
    expect(result.status).toBe('FAILED');
    expect(parent).toContain('Wait for the Athena registration');
    expect(parent).not.toContain('Check the Athena registration');
    expect(world.notifier.published).toHaveLength(1);
    expect(world.notifier.report(0)).toMatchObject({
      failedStep: 'checkPartitionRefresh',
      error: 'AthenaQueryFailedError',
    });
  });
});
