/**
 * Issue 12's figures through the real ASL in the local interpreter (the runner supplies the Distributed Map's
 * ItemReader/ResultWriter around it): 1,000 partitions with every job succeeding or every job failing, and 10,000
 * with every job failing.
 * Goals: the largest state payload and the SNS message at most 64 KiB at every size (Step Functions' limit is
 * 256 KiB per payload, SNS's 256 KB per message), the parent's history at most 200 events (limit 25,000), and
 * exactly one notification for a failing run. 10,000 succeeding and the 100,000-partition lines are in
 * tests/bench/limits.bench.ts (`npm run bench:limits`).
 */
import { measureRun, type MeasuredRun } from '../support/limits-run';

const GOAL_BYTES = 64 * 1024;
const GOAL_PARENT_HISTORY = 200;

const lines: string[] = [];
afterAll(() => console.log(lines.join('\n')));

function expectWithinGoals(run: MeasuredRun): void {
  lines.push(run.line);
  expect(run.jobRuns).toBe(run.partitions);
  expect(run.status).toBe(run.outcome === 'all-succeeded' ? 'SUCCEEDED' : 'FAILED');
  expect(run.snsMessages).toBe(run.outcome === 'all-succeeded' ? 0 : 1);
  expect(run.largestStatePayload).toBeLessThanOrEqual(GOAL_BYTES);
  expect(run.snsMessage).toBeLessThanOrEqual(GOAL_BYTES);
  expect(run.parentHistoryEvents).toBeLessThanOrEqual(GOAL_PARENT_HISTORY);
}

test.each([
  [1_000, 'all-succeeded'],
  [1_000, 'all-failed'],
  // 10,000 succeeding partitions is in the bench (`npm run bench:limits -- --partitions 10000 --runs range-succeeded`):
  // ~35 s that add nothing the failing run does not check (it has the larger payloads and the message).
  [10_000, 'all-failed'],
] as const)(
  '%i partitions, %s: payloads and the message within 64 KiB, a short parent history',
  async (n, outcome) => {
    expectWithinGoals(await measureRun(n, outcome));
  },
  300_000,
);

test('the same figures whatever the input form: explicit partitions, a range, a manifest', async () => {
  const forms = await Promise.all(
    (['partitions', 'range', 'manifest'] as const).map(async (form) => measureRun(200, 'all-failed', form)),
  );
  for (const run of forms) expectWithinGoals(run);
  // Only the explicit form carries its list in the execution input itself (bounded by the 5,000-item schema cap).
  expect(forms[1]!.largestStatePayload).toBe(forms[2]!.largestStatePayload);
  expect(forms[1]!.snsMessage).toBeGreaterThan(0);
}, 120_000);
