/**
 * Issue 13 in the local runtime: the local Glue, crawler and Athena stand-ins publish their state-change events,
 * and the runner completes each token wait through functions/complete-wait's step -- the same completion code as on
 * AWS. A 30-partition landing therefore enters no Check state at all (the poll loops made about 60 per partition).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRuntime } from '../../runtime/runtime';
import type { LocalEvent } from '../../runtime/state-machine';
import { configWithoutQuietPeriod, ordersBody, ordersKey } from '../support/local-lake';

const PARTITIONS = Number(process.env.W13_PARTS ?? 30);

const key = ordersKey;
const body = ordersBody;

test(`a ${PARTITIONS}-partition local run completes every wait by event: no Check state, no re-check`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-local-waits-'));
  const entered: LocalEvent[] = [];
  const runtime = await LocalRuntime.open({
    lakeDir: join(dir, 'lake'),
    configFile: configWithoutQuietPeriod(dir),
    quietMs: 0,
    pollMs: 5,
    onEvent: (_arn, event) => {
      if (event.type === 'StateEntered') entered.push(event);
    },
  });
  // Every status read of a local job run: the await step's one and the completion's one, nothing polls in between.
  let jobReads = 0;
  const read = runtime.jobs.getJobRun.bind(runtime.jobs);
  runtime.jobs.getJobRun = (jobName, runId) => {
    jobReads += 1;
    return read(jobName, runId);
  };
  try {
    const days = Array.from({ length: PARTITIONS }, (_, i) => i + 1);
    const events = days.map((day) => runtime.lake.land(key(day), body(day)));
    for (const event of events) await runtime.deliver(event);
    await runtime.idle();
    expect(runtime.runs.map((r) => r.result.status)).toEqual(runtime.runs.map(() => 'SUCCEEDED'));
    const succeeded = runtime.runs.reduce(
      (n, r) =>
        n + Number((r.result.output as { jobResults?: { succeededCount?: number } }).jobResults?.succeededCount ?? 0),
      0,
    );
    expect(succeeded).toBe(PARTITIONS);
    // The poll loops' fallback Checks (issue 24's "Check the new files' schemas" is a step of every run, not one).
    const checks = entered.filter(
      (e) => e.state?.name.startsWith('Check the') && e.state.name !== "Check the new files' schemas",
    ).length;
    const tokenWaits = entered.filter((e) => e.state?.name.startsWith('Wait for the') && e.state.type === 'Task');
    console.log(
      `local run, ${PARTITIONS} partitions: Check states per partition ${checks / PARTITIONS} ` +
        `(poll loops: about 60); token waits ${tokenWaits.length}; job status reads per partition ${jobReads / PARTITIONS}`,
    );
    // One token wait and at most two status reads per Glue job run; the partitions are batched (issue 23).
    const jobRuns = runtime.jobs.allStats().length;
    expect(jobRuns).toBeGreaterThan(0);
    expect(jobRuns).toBeLessThanOrEqual(PARTITIONS);
    expect(checks).toBe(0);
    expect(jobReads).toBeLessThanOrEqual(2 * jobRuns);
    expect(tokenWaits.filter((e) => e.state?.name === 'Wait for the job run')).toHaveLength(jobRuns);
  } finally {
    await runtime.idle();
    runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
