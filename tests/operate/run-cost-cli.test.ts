/**
 * Issue 23 item 6, the CLI: `runs` shows each run's dollars and their split, `status` the last run's, and a
 * followed run ends with its cost; a deployed stage's cost is billed, a local run's is labelled modelled. Driven
 * through the operate commands on the in-process fake stage (adapters/operate/fake-stage.ts).
 */
import { join } from 'node:path';
import { FakeStage } from '../../adapters/operate/fake-stage';
import { backfillCommand, runsCommand, statusCommand, type Io } from '../../adapters/operate/commands';
import type { DatasetStatus, StageBackend } from '../../adapters/operate/ports';
import { loadConfigFile } from '../../domain/config';
import { modelledRunCost } from '../../domain/cost';

const config = loadConfigFile(join(__dirname, '..', '..', 'config', 'dev.json'));
const dataset = config.datasets[0]!.name;

function io(json = false): Io & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    out: (l) => lines.push(l),
    json,
    now: () => new Date('2026-03-01T12:00:00Z'),
    sleep: async () => undefined,
  };
}

async function finishedFakeRun(): Promise<{ stage: FakeStage; followed: string[] }> {
  const stage = new FakeStage('fake', { total: 4, perPoll: 4 });
  const out = io();
  await backfillCommand(stage, config, out, {
    dataset,
    from: 'year=2024/month=01/day=01',
    to: 'year=2024/month=01/day=04',
    skipCrawler: false,
    wait: true,
    intervalMs: 1,
  });
  return { stage, followed: out.lines };
}

test('a followed run ends with its cost, and runs lists it with the split', async () => {
  const { stage, followed } = await finishedFakeRun();
  // 4 job runs of 90 s at 2 G.1X DPU, one crawl at its 10-minute minimum, 44 transitions.
  expect(followed).toContain('cost: $0.1624 (glue $0.0880, crawler $0.0733, athena $0.0000, step functions $0.0011)');
  const out = io();
  expect(await runsCommand(stage, out, { limit: 10 })).toBe(0);
  expect(out.lines[0]).toMatch(/\bcost\b/);
  expect(out.lines[1]).toMatch(/ \$0\.1624$/);
  expect(out.lines).toContain('cost = Glue + crawler + Athena + Step Functions dollars; each run split:');
  expect(out.lines.at(-1)).toMatch(
    /\$0\.1624 \(glue \$0\.0880, crawler \$0\.0733, athena \$0\.0000, step functions \$0\.0011\)$/,
  );
  // --json carries the cost object as it is.
  const json = io(true);
  await runsCommand(stage, json, { limit: 10 });
  expect(JSON.parse(json.lines.join('\n'))[0].cost).toMatchObject({
    basis: 'billed',
    counts: { jobRuns: 4, crawls: 1 },
  });
});

test("status shows the last run's cost; a modelled cost says so", async () => {
  const { stage } = await finishedFakeRun();
  const [run] = await stage.runs({ limit: 1 });
  const modelled = modelledRunCost({ jobRunBytes: [0], dpu: 2, crawls: 0, transitions: 10 });
  const backend: StageBackend = {
    label: 'stage fake',
    status: async (): Promise<DatasetStatus[]> => [
      { dataset, lease: null, pending: null, lastRun: { ...run!, cost: modelled }, newestQueryableArrivalAt: null },
    ],
    runs: (query) => stage.runs(query),
    run: (arn) => stage.run(arn),
    start: (input, kind) => stage.start(input, kind),
    progress: (arn) => stage.progress(arn),
    logs: () => stage.logs(),
  };
  const out = io();
  await statusCommand(backend, out);
  expect(out.lines[2]).toMatch(/, cost \$0\.0149 \(modelled\)$/);
  expect(out.lines).toContain(
    `${dataset} last run cost: $0.0149 (glue $0.0147, crawler $0.0000, athena $0.0000, step functions $0.0003; modelled)`,
  );
});
