/**
 * Issue 12's 100,000-partition figures (minutes each, so not in `npm test`; the 1,000 and 10,000 lines are in
 * tests/integration/limits.test.ts): a backfill by range and by manifest, and a run whose every job fails, through
 * the real ASL in the local interpreter, with the in-memory ports.
 *
 *   npx tsx tests/bench/limits.bench.ts [--partitions 100000] [--runs range-succeeded,manifest-succeeded,range-failed]
 *
 * Prints one line per run in the issue's form, and fails (exit 1) when a goal is missed: largest state payload and
 * SNS message at most 64 KiB, parent history at most 200 events, exactly one notification for a failing run.
 */
import './quiet-logs';
import { parseArgs } from 'node:util';
import { measureRun, type MeasuredRun } from '../support/limits-run';

const GOAL_BYTES = 64 * 1024;
const GOAL_PARENT_HISTORY = 200;

const RUNS = {
  'range-succeeded': ['range', 'all-succeeded'],
  'manifest-succeeded': ['manifest', 'all-succeeded'],
  'range-failed': ['range', 'all-failed'],
  'manifest-failed': ['manifest', 'all-failed'],
} as const;

function missed(run: MeasuredRun): string[] {
  const problems: string[] = [];
  const failing = run.outcome === 'all-failed';
  if (run.jobRuns !== run.partitions) problems.push(`${run.jobRuns} job runs for ${run.partitions} partitions`);
  if (run.status !== (failing ? 'FAILED' : 'SUCCEEDED')) problems.push(`run ended ${run.status}`);
  if (run.snsMessages !== (failing ? 1 : 0)) problems.push(`${run.snsMessages} SNS messages`);
  if (run.largestStatePayload > GOAL_BYTES) problems.push(`state payload ${run.largestStatePayload} > ${GOAL_BYTES}`);
  if (run.snsMessage > GOAL_BYTES) problems.push(`SNS message ${run.snsMessage} > ${GOAL_BYTES}`);
  if (run.parentHistoryEvents > GOAL_PARENT_HISTORY) problems.push(`parent history ${run.parentHistoryEvents}`);
  return problems;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      partitions: { type: 'string', default: '100000' },
      runs: { type: 'string', default: 'range-succeeded,manifest-succeeded,range-failed' },
    },
  });
  const partitions = Number(values.partitions);
  let failures = 0;
  for (const name of String(values.runs).split(',')) {
    const spec = RUNS[name as keyof typeof RUNS];
    if (!spec) throw new Error(`unknown run ${name}: one of ${Object.keys(RUNS).join(', ')}`);
    const [form, outcome] = spec;
    const run = await measureRun(partitions, outcome, form);
    const problems = missed(run);
    failures += problems.length;
    console.log(
      `${run.line}  (by ${form}, ${run.seconds.toFixed(0)} s${problems.length ? `; MISSED: ${problems.join(', ')}` : ''})`,
    );
  }
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
