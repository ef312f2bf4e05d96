/**
 * Issue 25's guarantees on a batched run (docs/batches.md): enough one-file partitions that the local plan puts
 * them in one Glue job run, among them a long ragged row, a binary file and bad rows under the limit. Through the
 * CLI: the failure messages lead with the file, the same text in `run`, `logs`, `runs`, the notification and the
 * history; one rejects line with its folder; rows in = out + bad per partition and in total; `rerun` re-runs exactly
 * the failed partitions.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mapItemsOf } from '../../runtime/history';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function sluice(json: boolean, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(
    TSX,
    [join(ROOT, 'cli/sluice.ts'), ...args, ...(json ? ['--json'] : []), '--quiet-ms', '200', '--poll-ms', '20'],
    { encoding: 'utf8', timeout: 90_000 },
  );
  if (result.status === null) throw new Error(`cli did not finish: ${result.stderr}`);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
const cliJson = <T>(...args: string[]): { code: number; json: T } => {
  const r = sluice(true, ...args);
  try {
    return { code: r.code, json: JSON.parse(r.stdout) as T };
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
};

type Rows = { in: number; out: number; bad: number };
interface RunJson {
  name: string;
  status: string;
  partitions?: { processed: number; failed: number };
  failedPartitions?: Array<{ partition: string; state: string; message?: string }>;
  rows?: Rows;
  rerunInput?: { manifest?: string } | null;
  cost?: { counts: { jobRuns: number } };
}

const HEADER = 'order_id,customer,amount,ordered_at';
const GOOD_DAYS = 20;
const RAGGED = 'year=2024/month=01/day=21';
const BINARY = 'year=2024/month=01/day=22';
const SOME_BAD = 'year=2024/month=01/day=23';
const PARTITIONS = GOOD_DAYS + 3;
/** One bad row in 201: under the 1 % limit, so a rejects file and a partition that succeeds. */
const SOME_BAD_ROWS = 201;
const TOTAL: Rows = { in: GOOD_DAYS + SOME_BAD_ROWS, out: GOOD_DAYS + SOME_BAD_ROWS - 1, bad: 1 };

/** A lake of 23 one-file `orders` partitions: 20 good single rows, a long ragged row, a binary file, one bad row. */
function landLake(lake: string): void {
  const land = (key: string, body: string | Buffer) => {
    mkdirSync(dirname(join(lake, 'raw', key)), { recursive: true });
    writeFileSync(join(lake, 'raw', key), body);
  };
  for (let day = 1; day <= GOOD_DAYS; day += 1) {
    const dd = String(day).padStart(2, '0');
    land(`orders/year=2024/month=01/day=${dd}/part.csv`, `${HEADER}\n${day},c${day},1.50,2024-01-${dd} 10:00:00\n`);
  }
  // Line 3 has 40 fields of 30 characters where the header has 4: a cause far over the 200-character clip.
  const ragged = Array.from({ length: 40 }, (_, i) => `field-${String(i).padStart(2, '0')}-${'x'.repeat(21)}`);
  land(`orders/${RAGGED}/ragged.csv`, `${HEADER}\n21,c,1.50,2024-01-21 10:00:00\n${ragged.join(',')}\n`);
  land(`orders/${BINARY}/garbage.csv`, Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) % 256)));
  land(
    `orders/${SOME_BAD}/some-bad.csv`,
    `${HEADER}\nx,c,lots,never\n` +
      Array.from({ length: SOME_BAD_ROWS - 1 }, (_, i) => `${i},c,1.50,2024-01-23 10:00:00\n`).join(''),
  );
}

const json = (p: string): string => JSON.stringify(Object.fromEntries(p.split('/').map((kv) => kv.split('='))));

describe('issue 25 on a batched run: messages, counts and rerun through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-batches-'));
  const lake = join(dir, 'lake');
  const jsonLake = join(dir, 'lake-json');
  let run: ReturnType<typeof sluice>;
  let runJson: { code: number; json: { rows: Rows; partitions: unknown; runs: RunJson[]; rejectsFolders: string[] } };
  let record: RunJson;

  beforeAll(() => {
    landLake(lake);
    landLake(jsonLake);
    run = sluice(false, 'run', '--lake', lake);
    runJson = cliJson('run', '--lake', jsonLake);
    const runs = cliJson<RunJson[]>('runs', '--lake', lake).json;
    expect(runs).toHaveLength(1);
    record = runs[0]!;
  }, 240_000);

  test('the run really batched: fewer job runs than partitions, and a batch file', () => {
    expect(run.code).toBe(1);
    expect(record.status).toBe('FAILED');
    expect(record.partitions).toEqual({ processed: PARTITIONS - 2, failed: 2 });
    expect(record.cost?.counts.jobRuns).toBeGreaterThanOrEqual(1);
    expect(record.cost?.counts.jobRuns).toBeLessThan(PARTITIONS);
    expect(existsSync(join(lake, 'local-artifacts/runs/sluice-local', record.name, 'batches/0.json'))).toBe(true);
    expect(runJson.json.runs[0]?.cost?.counts.jobRuns).toBeLessThan(PARTITIONS);
    // Progress counts the Map's items, the plan's job runs, and says so.
    const jobRuns = record.cost!.counts.jobRuns;
    expect(run.stdout).toMatch(new RegExp(`orders +job runs +${jobRuns}/${jobRuns} finished`));
  });

  test('the Map items of a plan: job runs when batched, partitions when not', () => {
    const plan = (partitions: number, jobRuns: number) => ({
      plan: { items: { count: jobRuns }, partitions, jobRuns },
    });
    expect(mapItemsOf(plan(23, 1))).toEqual({ total: 1, unit: 'job runs' });
    expect(mapItemsOf(plan(3, 3))).toEqual({ total: 3, unit: 'partitions' });
    expect(mapItemsOf({ debounce: { items: { count: 4 } } })).toEqual({ total: 4, unit: 'partitions' });
  });

  test('failure messages lead with the file and line; the same text in run, logs, runs, notification, history', () => {
    const failed = record.failedPartitions ?? [];
    expect(failed.map((f) => f.partition)).toEqual([RAGGED, BINARY]);
    const ragged = failed[0]!.message!;
    const binary = failed[1]!.message!;
    expect(ragged).toMatch(/^ragged\.csv line 3: /);
    expect(binary).toMatch(/^garbage\.csv: /);
    for (const f of failed) {
      // run (text and --json)
      expect(run.stdout).toContain(`  ${f.partition}  FAILED: ${f.message}\n`);
      expect(runJson.json.runs[0]?.failedPartitions).toContainEqual(f);
      // the notification
      const notification = readFileSync(join(lake, 'notifications.jsonl'), 'utf8');
      expect(notification).toContain(JSON.stringify(`${json(f.partition)}  FAILED: ${f.message}`).slice(1, -1));
      // the history the operate commands read
      const history = readFileSync(join(lake, 'history/runs.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as RunJson);
      expect(history[0]?.failedPartitions).toContainEqual(f);
    }
    // logs: one line per partition of the batch, the failed ones with their own message, none misattributed
    const logs = cliJson<Array<{ message: Record<string, unknown> }>>('logs', record.name, '--lake', lake).json;
    const results = logs.filter((l) => l.message.message === 'PartitionResult').map((l) => l.message);
    expect(results).toHaveLength(PARTITIONS);
    for (const f of failed)
      expect(results.filter((r) => r.partition === f.partition)).toEqual([
        expect.objectContaining({ level: 'ERROR', jobState: 'FAILED', jobMessage: f.message }),
      ]);
    const messages = logs.flatMap((l) => (typeof l.message.jobMessage === 'string' ? [l.message] : []));
    expect(messages.map((m) => m.partition).sort()).toEqual([RAGGED, BINARY]);
    const text = sluice(false, 'logs', record.name, '--lake', lake).stdout;
    expect(text).toContain(
      `[${RAGGED}]  PartitionResult  {"jobState":"FAILED","jobMessage":${JSON.stringify(ragged)}}`,
    );
  }, 60_000);

  test('one rejects line, with the folder', () => {
    const lines = run.stdout.split('\n').filter((l) => /^\s+rejects:/.test(l));
    expect(lines).toEqual([`  rejects:     1 file of rejected rows in ${join(lake, 'curated', '_rejected')}/`]);
    expect(runJson.json.rejectsFolders).toEqual([`${join(jsonLake, 'curated', '_rejected')}/`]);
  });

  test('rows in = out + bad per partition and in total, in run, runs and --json', () => {
    expect(run.stdout).toContain(`rows:        ${TOTAL.in} in = ${TOTAL.out} out + ${TOTAL.bad} bad`);
    expect(runJson.json.rows).toEqual(TOTAL);
    expect(record.rows).toEqual(TOTAL);
    expect(sluice(false, 'runs', '--lake', lake).stdout).toContain(
      `${TOTAL.in} in, ${TOTAL.out} out, ${TOTAL.bad} bad`,
    );
    const logs = cliJson<Array<{ message: Record<string, unknown> }>>('logs', record.name, '--lake', lake).json;
    const perPartition = logs
      .filter((l) => l.message.message === 'PartitionResult' && l.message.jobState === 'SUCCEEDED')
      .map((l) => l.message.jobRows as Rows);
    expect(perPartition).toHaveLength(PARTITIONS - 2);
    for (const rows of perPartition) expect(rows.in).toBe(rows.out + rows.bad);
    const sum = perPartition.reduce((t, r) => ({ in: t.in + r.in, out: t.out + r.out, bad: t.bad + r.bad }));
    expect(sum).toEqual(TOTAL);
  }, 60_000);

  test('rerun re-runs exactly the failed partitions, with their reasons', () => {
    const manifest = record.rerunInput?.manifest ?? '';
    const stored = JSON.parse(readFileSync(join(lake, manifest.replace(/^s3:\/\//, '')), 'utf8')) as Array<
      Record<string, string>
    >;
    expect(
      stored.map((p) =>
        Object.entries(p)
          .map(([k, v]) => `${k}=${v}`)
          .join('/'),
      ),
    ).toEqual([RAGGED, BINARY]);
    const rerun = sluice(false, 'rerun', record.name, '--lake', lake);
    expect(rerun.code).toBe(1);
    expect(rerun.stdout).toContain(', 0 partitions processed, 2 failed');
    for (const f of record.failedPartitions ?? [])
      expect(rerun.stdout).toContain(`  ${f.partition}  FAILED: ${f.message}\n`);
    const latest = cliJson<RunJson[]>('runs', '--lake', lake).json[0]!;
    expect(latest.name).not.toBe(record.name);
    expect(latest.partitions).toEqual({ processed: 0, failed: 2 });
    expect(latest.failedPartitions).toEqual(record.failedPartitions);
  }, 120_000);

  test("a batch partition's rejects file is superseded when the partition is read again", () => {
    const folder = join(lake, 'curated', '_rejected', 'orders');
    const rejects = () => readdirSync(folder).filter((f) => f.endsWith('.csv'));
    const [first] = rejects();
    expect(rejects()).toHaveLength(1);
    const current = JSON.parse(readFileSync(join(folder, '_current.json'), 'utf8')) as Record<string, string | null>;
    expect(current[json(SOME_BAD)]).toBe(first);
    // A new file lands in the partition: the next run reads it again, with one bad row again.
    writeFileSync(join(lake, 'raw', 'orders', SOME_BAD, 'more.csv'), `${HEADER}\n1,c,1.50,2024-01-23 11:00:00\n`);
    expect(sluice(false, 'run', '--lake', lake).stdout).toMatch(/rejects: {5}1 file of rejected rows in /);
    expect(rejects()).toHaveLength(1);
    expect(rejects()).not.toContain(first);
  }, 120_000);
});
