/**
 * Issue 24 on the real ASL (local runtime): the crawler runs only when it can learn something, breaking drift fails
 * its partitions before any job run with one notification naming files and columns, additive drift is named once
 * per new fingerprint, and the crawled table is checked against the mapping.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStage } from '../../runtime/history';
import { LocalRuntime, type FinishedRun } from '../../runtime/runtime';
import { statusCommand } from '../../adapters/operate/commands';
import type { CrawledSchemaCheck, SchemaDrift } from '../../schemas/types.generated';
import { configWithoutQuietPeriod, ordersBody, ordersKey } from '../support/local-lake';

const CRAWLER_STARTED = 'Start the crawler';

const entered = (run: FinishedRun, state: string): boolean =>
  run.result.events.some((e) => e.type === 'StateEntered' && e.state?.name === state);

function exitedOutput<T>(run: FinishedRun, state: string, key: string): T | undefined {
  const event = run.result.events.find((e) => e.type === 'StateExited' && e.state?.name === state);
  return (event?.state?.output as Record<string, T> | undefined)?.[key];
}

const driftOf = (run: FinishedRun) => exitedOutput<SchemaDrift>(run, "Check the new files' schemas", 'drift');

let dir: string;
let runtime: LocalRuntime;

async function open(change?: (config: { datasets: Array<Record<string, unknown>> }) => void) {
  dir = mkdtempSync(join(tmpdir(), 'sluice-drift-runs-'));
  const file = configWithoutQuietPeriod(dir);
  if (change) {
    const config = JSON.parse(readFileSync(file, 'utf8')) as { datasets: Array<Record<string, unknown>> };
    change(config);
    writeFileSync(file, JSON.stringify(config));
  }
  runtime = await LocalRuntime.open({ lakeDir: join(dir, 'lake'), configFile: file, quietMs: 0, pollMs: 5 });
}

/** Lands these orders files and waits until every run they started has ended; returns the new runs. */
async function land(files: Array<{ day: number; body?: string }>): Promise<FinishedRun[]> {
  const before = runtime.runs.length;
  await runtime.deliverAll(files.map((f) => runtime.lake.land(ordersKey(f.day), f.body ?? ordersBody(f.day))));
  await runtime.idle();
  return runtime.runs.slice(before);
}

const notifications = (): Array<{ subject: string; message: string }> => {
  try {
    return readFileSync(runtime.lake.notificationsFile, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { subject: string; message: string });
  } catch {
    return [];
  }
};

afterEach(async () => {
  await runtime.idle();
  runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('schema drift on the real ASL (issue 24)', () => {
  test('drift: runs with no new fingerprint start no crawler', async () => {
    await open();
    const first = await land([{ day: 1 }]);
    expect(first.map((r) => r.result.status)).toEqual(['SUCCEEDED']);
    expect(entered(first[0]!, CRAWLER_STARTED)).toBe(true); // no raw table yet
    expect(driftOf(first[0]!)?.crawlReason).toBe('the raw table does not exist yet');
    expect(exitedOutput<CrawledSchemaCheck>(first[0]!, 'Classify the crawled table', 'crawlCheck')).toMatchObject({
      class: 'none',
      disagreements: [],
    });
    const unchanged: FinishedRun[] = [];
    const N = 5;
    for (let day = 2; day < 2 + N; day += 1) unchanged.push(...(await land([{ day }])));
    const crawled = unchanged.filter((run) => entered(run, CRAWLER_STARTED)).length;
    process.stdout.write(`crawler runs on unchanged runs: ${crawled} of ${unchanged.length}\n`);
    expect(unchanged.map((r) => r.result.status)).toEqual(Array(N).fill('SUCCEEDED'));
    expect(crawled).toBe(0);
    for (const run of unchanged)
      expect(driftOf(run)).toMatchObject({
        crawl: false,
        crawlReason: 'no new schema fingerprint since the last crawl',
        newFingerprints: [],
      });
    // Every partition was still converted.
    expect(runtime.jobs.allStats().filter((j) => j.state === 'SUCCEEDED')).toHaveLength(1 + N);
  }, 120_000);

  test('drift: breaking drift fails its partitions before any job run, with one notification naming files and columns', async () => {
    await open();
    await land([{ day: 1 }]);
    const jobsBefore = runtime.jobs.allStats().length;
    const noticesBefore = notifications().length;
    const broken = 'order_id,customer,ordered_at\n3,c3,2024-01-03 10:00:00\n';
    const runs = await land([{ day: 2 }, { day: 3, body: broken }]);
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run.result.status).toBe('FAILED');
    const drift = driftOf(run)!;
    expect(drift).toMatchObject({ failedCount: 1, items: { count: 1 }, crawl: true });
    // Only day 2 reached a job run; day 3 never did.
    const started = runtime.jobs.allStats().slice(jobsBefore);
    expect(started).toHaveLength(1);
    expect(started[0]!.arguments['--sluice_source_path']).toMatch(/day=02\/$/);
    const notices = notifications().slice(noticesBefore);
    expect(notices).toHaveLength(1);
    expect(notices[0]!.message).toContain('day=03/part.csv');
    expect(notices[0]!.message).toContain('amount');
    expect(notices[0]!.message).toMatch(/SCHEMA_DRIFT/);
    // The crawl that the new fingerprint started saw the same: the table still has amount (day 1, 2), so it says so.
    const check = exitedOutput<CrawledSchemaCheck>(run, 'Classify the crawled table', 'crawlCheck');
    expect(check?.disagreements.join('\n')).toMatch(/failed for breaking drift/);
    // The fix: the file rewritten with the column, and the partition re-run, works as for any failed partition.
    const fixed = await land([{ day: 3 }]);
    expect(fixed.map((r) => r.result.status)).toEqual(['SUCCEEDED']);
  }, 120_000);

  test('drift: an additive column is named once, with the first file that has it; the crawl reports it', async () => {
    await open();
    await land([{ day: 1 }]);
    const wider = (day: number) =>
      `order_id,customer,amount,ordered_at,channel\n${day},c${day},1.50,2024-01-0${day} 10:00:00,web\n`;
    const [run] = await land([{ day: 2, body: wider(2) }]);
    expect(run!.result.status).toBe('SUCCEEDED');
    const drift = driftOf(run!)!;
    expect(drift.crawl).toBe(true);
    expect(drift.newFingerprints).toEqual([
      expect.objectContaining({
        class: 'additive',
        newColumns: ['channel'],
        firstFile: expect.stringContaining('day=02'),
      }),
    ]);
    expect(drift.info).toEqual([expect.stringMatching(/^orders: new column channel .*first in .*day=02\/part.csv/)]);
    expect(exitedOutput<CrawledSchemaCheck>(run!, 'Classify the crawled table', 'crawlCheck')).toMatchObject({
      class: 'additive',
      newColumns: ['channel'],
      disagreements: [],
    });
    // The same schema again: named no more, and no crawl.
    const [again] = await land([{ day: 3, body: wider(3) }]);
    expect(driftOf(again!)).toMatchObject({ crawl: false, newFingerprints: [] });
    expect(driftOf(again!)?.info).toBeUndefined();
    // `sluice status` names it, once, with the first file that has it.
    const lines: string[] = [];
    const stage = new LocalStage(runtime.config, join(dir, 'lake'), async () => runtime);
    await statusCommand(stage, {
      out: (l) => lines.push(l),
      json: false,
      now: () => new Date(),
      sleep: async () => {},
    });
    expect(lines.filter((l) => l.startsWith('schema: '))).toEqual([
      expect.stringMatching(/^schema: orders: new column channel \(not in the mapping\), first in .*day=02\/part.csv/),
    ]);
  }, 120_000);

  test('drift: crawler.when every-run and never, and a manual crawl: true', async () => {
    await open((config) => {
      for (const d of config.datasets) d.crawler = { ...(d.crawler as object), when: 'never' };
    });
    const [first] = await land([{ day: 1 }]);
    expect(entered(first!, CRAWLER_STARTED)).toBe(false);
    expect(driftOf(first!)?.crawlReason).toBe('crawler.when is never');
    const manual = await runtime.runManually({
      dataset: 'orders',
      partitions: [{ year: '2024', month: '01', day: '01' }],
      crawl: true,
    });
    expect(manual.result.status).toBe('SUCCEEDED');
    expect(entered(manual, CRAWLER_STARTED)).toBe(true);
    expect(driftOf(manual)?.crawlReason).toMatch(/crawl: true/);
  }, 120_000);
});
