/**
 * The local runtime's own behaviour (issue 14): a burst delivered back to back is claimed by one execution, and a
 * landed object's event carries a cheap ETag and a sequencer that grows with each write of the key. Issue 12: the
 * local intake is the deployed batch handler behind a local queue (poison to a dead-letter file, duplicates add nothing).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRuntime, localWaitMs } from '../../runtime/runtime';
import { allStates, loadDefinition } from '../../runtime/state-machine';
import { configWithoutQuietPeriod, ordersBody, ordersKey } from '../support/local-lake';

const orders = ordersKey;
const body = ordersBody;

describe('local runtime', () => {
  let dir: string;
  let runtime: LocalRuntime;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-runtime-'));
    runtime = await LocalRuntime.open({
      lakeDir: join(dir, 'lake'),
      configFile: configWithoutQuietPeriod(dir),
      quietMs: 0,
      pollMs: 5,
    });
  });
  afterEach(async () => {
    await runtime.idle();
    runtime.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('events delivered back to back are claimed by one execution, even with no quiet period', async () => {
    const events = [1, 2, 3, 4, 5, 6].map((day) => runtime.lake.land(orders(day), body(day)));
    for (const event of events) await runtime.deliver(event);
    await runtime.idle();
    expect(runtime.runs.map((r) => r.result.status)).toEqual(['SUCCEEDED']);
    const claim = runtime.runs[0]?.result.events.find(
      (e) => e.type === 'StateExited' && e.state?.name === 'Claim the settled arrivals',
    );
    expect((claim?.state?.output as { debounce: { partitionCount: number } }).debounce.partitionCount).toBe(6);
    expect(runtime.jobs.allStats().map((j) => j.state)).toEqual(Array(6).fill('SUCCEEDED'));
  }, 60_000);

  test('a burst goes through the batch handler: one batch, poison to the dead-letter file, one execution', async () => {
    const events = [1, 2, 3, 4, 5, 6].map((day) => runtime.lake.land(orders(day), body(day)));
    const foreign = { ...events[0]!, detail: { ...events[0]!.detail, bucket: { name: 'elsewhere' } } };
    const outcomes = await runtime.deliverAll([...events, 'not an event at all', foreign]);
    await runtime.idle();
    expect(outcomes.map((o) => o.status)).toEqual([...Array(6).fill('accepted'), 'rejected', 'rejected']);
    // The batch's one start attempt is reported on its first accepted record.
    expect(outcomes.filter((o) => 'startedExecution' in o && o.startedExecution)).toHaveLength(1);
    expect(outcomes[6]).toMatchObject({
      reason: expect.stringMatching(/^not an S3 Object Created event.*kept in <lake>\/intake-dead-letters.jsonl\)$/),
    });
    expect(outcomes[7]).toMatchObject({ reason: expect.stringMatching(/^bucket 'elsewhere' is not the raw bucket/) });
    const dead = readFileSync(runtime.deadLetterFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { body: string; reason: string });
    expect(dead).toEqual([
      expect.objectContaining({
        body: '"not an event at all"',
        reason: expect.stringMatching(/^not an S3 Object Created event/),
      }),
    ]);
    expect(runtime.runs).toHaveLength(1);
    expect(runtime.jobs.allStats()).toHaveLength(6);
    // Delivered again (at-least-once): duplicates, no new run.
    const again = await runtime.deliverAll(events);
    await runtime.idle();
    expect(again.map((o) => o.status)).toEqual(Array(6).fill('duplicate'));
    expect(runtime.runs).toHaveLength(1);
  }, 60_000);

  test("an object's ETag and sequencer change with each write of the key; the ETag is not taken for an MD5", () => {
    const first = runtime.lake.land(orders(7), body(7)).detail.object;
    const again = runtime.lake.eventFor(orders(7)).detail.object;
    const rewritten = runtime.lake.land(orders(7), body(8)).detail.object;
    expect(again.etag).toBe(first.etag);
    expect(rewritten.etag).not.toBe(first.etag);
    expect(first.etag).toMatch(/^[0-9a-f]{32}-1$/);
    expect(BigInt(`0x${rewritten.sequencer}`)).toBeGreaterThan(BigInt(`0x${first.sequencer}`));
    expect(rewritten.size).toBe(Buffer.byteLength(body(8)));
  });

  test('local waits: the quiet period for the debounce, pollMs per job run, at most 10 ms for once-per-run polls', () => {
    const waits = allStates(loadDefinition().States)
      .filter(([, state]) => state.Type === 'Wait')
      .map(([name]) => [name, localWaitMs(name, 1000, 50)]);
    expect(waits).toContainEqual(['Wait for arrivals to settle', 1000]);
    for (const [name, ms] of waits)
      expect(ms).toBe(name === 'Wait for arrivals to settle' ? 1000 : name === 'Wait for the job run' ? 50 : 10);
    expect(localWaitMs('Wait for the crawler', 1000, 5)).toBe(5);
  });
});
