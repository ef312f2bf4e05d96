/**
 * Issue 13 against what was packaged: the template's ASL, whose crawler, job-run and Athena waits are
 * `.waitForTaskToken` Tasks, each invoking the packaged await function; the answers come over HTTP from the packaged
 * bundles (SendTaskSuccess / SendTaskFailure to the fake Step Functions endpoint): completeWait fed the state-change
 * events in AWS's shape, or -- events withheld -- recheckWait fed the re-check queue's messages
 * (tests/artifact/token-waits.ts). Every scenario asserts the run's outcome and its state transitions.
 */
import { type ObservedRun, reportOf, usePackagedWorld, type PackagedWorld } from './support';

let world: PackagedWorld;
let runs = 0;
usePackagedWorld((w) => (world = w));

function scenario(days: number[], dataset = 'orders') {
  const n = ++runs;
  const partitions = days.map((d) => ({ year: String(2050 + n), month: '04', day: String(d).padStart(2, '0') }));
  return { name: `waits-${n}`, input: { dataset, partitions, skipCrawler: false }, partitions };
}

/** States entered by each Map child (one partition), and at the top level. */
function transitions(run: ObservedRun) {
  const children = new Map<number, number>();
  for (const e of run.events)
    if (e.index !== undefined && e.type === 'StateEntered') children.set(e.index, (children.get(e.index) ?? 0) + 1);
  const parent = run.events
    .filter((e) => e.type === 'StateEntered' && e.index === undefined)
    .map((e) => e.state?.name ?? '');
  const all = run.events.filter((e) => e.type === 'StateEntered').map((e) => e.state?.name ?? '');
  // The waits' fallback Checks; issue 24's "Check the new files' schemas" is a step of every run, not one of them.
  const checks = all.filter((s) => s.startsWith('Check the') && s !== "Check the new files' schemas");
  return { perPartition: [...children.values()], parent, checks };
}

const accepted = () => world.fakes.sfn.answers.filter((a) => a.outcome === 'accepted');

test('events delivered: the packaged completeWait answers every wait; 4 transitions per partition, no Check', async () => {
  const { name, input } = scenario([1, 2]);
  const run = await world.run(name, input);
  expect([run.status, run.thrown]).toEqual(['SUCCEEDED', []]);
  expect(run.output).toMatchObject({ jobResults: { succeededCount: 2 }, refresh: { done: true, partitionCount: 2 } });
  const { perPartition, checks } = transitions(run);
  expect(perPartition).toEqual([4, 4]);
  expect(checks).toEqual([]);
  expect(run.tokenWaits).toEqual({ awaits: 4, events: 4, rechecks: 0, heartbeatTimeouts: 0 });
  expect(accepted().map((a) => a.operation)).toEqual(Array(4).fill('SendTaskSuccess'));
  expect(world.fakes.sns.published).toEqual([]);
}, 60_000);

test('events withheld: the packaged recheckWait finds each end from the re-check queue; same transitions', async () => {
  const { name, input } = scenario([3, 4]);
  const run = await world.run(name, input, { tokenWaits: { withholdEvents: true } });
  expect([run.status, run.thrown]).toEqual(['SUCCEEDED', []]);
  expect(transitions(run).perPartition).toEqual([4, 4]);
  expect(transitions(run).checks).toEqual([]);
  expect(run.tokenWaits).toMatchObject({ awaits: 4, events: 0, heartbeatTimeouts: 0 });
  expect(run.tokenWaits.rechecks).toBeGreaterThanOrEqual(4);
  expect(accepted()).toHaveLength(4);
}, 60_000);

test('duplicated events: one answer per token; the copy sends nothing or is refused', async () => {
  const { name, input } = scenario([5]);
  const run = await world.run(name, input, { tokenWaits: { duplicateEvents: true } });
  expect([run.status, run.thrown]).toEqual(['SUCCEEDED', []]);
  expect(run.tokenWaits.events).toBe(6);
  expect(transitions(run).perPartition).toEqual([4]);
  expect(accepted()).toHaveLength(3);
  expect(world.fakes.sfn.answers.filter((a) => a.outcome === 'InvalidToken')).toEqual([]);
}, 60_000);

test('the work ended before the token was recorded: the await function answers; the late event sends nothing', async () => {
  const { name, input } = scenario([6]);
  world.fakes.glue.pollsUntilDone = 0;
  world.fakes.athena.pollsUntilDone = 0;
  const run = await world.run(name, input, { tokenWaits: { lateEvents: true } });
  expect([run.status, run.thrown]).toEqual(['SUCCEEDED', []]);
  expect(transitions(run).perPartition).toEqual([4]);
  expect(run.tokenWaits).toMatchObject({ awaits: 3, events: 3, rechecks: 0 });
  // Three answers, all from the await functions' own check: the late events found their waiters answered.
  expect(world.fakes.sfn.answers).toEqual(Array(3).fill(expect.objectContaining({ outcome: 'accepted' })));
}, 60_000);

test('a job run failing, by event: a failed partition, the other registered, one notification', async () => {
  const { name, input, partitions } = scenario([7, 8]);
  const failing = JSON.stringify(partitions[0]);
  world.fakes.glue.jobOutcome = (args) =>
    args['--sluice_partition'] === failing ? { state: 'FAILED', errorMessage: 'OOM' } : { state: 'SUCCEEDED' };
  const run = await world.run(name, input);
  expect(run.status).toBe('FAILED');
  expect(run.thrown).toEqual([]);
  expect(transitions(run).perPartition).toEqual([4, 4]);
  expect(world.fakes.sns.published).toHaveLength(1);
  expect(reportOf(world.fakes.sns.published[0]!.message)).toMatchObject({
    failedPartitions: [{ partition: partitions[0], ok: false, state: 'FAILED', message: 'OOM' }],
  });
  expect(world.fakes.athena.queries).toHaveLength(1);
}, 60_000);

test('events withheld and the re-check path broken: each heartbeat expiry runs one packaged Check', async () => {
  const { name, input } = scenario([9]);
  const run = await world.run(name, input, { tokenWaits: { withholdEvents: true, breakRechecks: true } });
  expect(run.status).toBe('SUCCEEDED');
  expect(run.thrown.map((t) => t.error)).toEqual(Array(3).fill('States.HeartbeatTimeout'));
  const { perPartition, checks } = transitions(run);
  expect(checks.sort()).toEqual(['Check the Athena registration', 'Check the crawler', 'Check the job run']);
  expect(perPartition).toEqual([6]);
  expect(world.fakes.sfn.answers).toEqual([]);
}, 60_000);
