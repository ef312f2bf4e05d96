/**
 * `npm run check:protocol`: explores every schedule of every scenario (tests/protocol/scenarios.ts) within its
 * fault bound, on the real cores and adapters. Prints one line per scenario and the total; exits 1 on any
 * violation, printing the shortest failing schedule found.
 *
 * The scenarios are independent searches, so they run in SLUICE_CHECK_JOBS worker processes (default 2: the
 * machine's cores), longest first; the lines come out in the scenarios' order. Each search is the same as alone.
 */
import { spawn } from 'node:child_process';
import { explore, summaryLine, type Report } from './checker';
import { buildScenario, SCENARIOS, type ScenarioSpec } from './scenarios';

type Result = { report: Report; seconds: number };

function specOf(index: number): ScenarioSpec {
  const spec = SCENARIOS[index]!;
  // SLUICE_CHECK_FAULTS=n: every scenario with that fault bound instead of its own (for measuring).
  const bound = process.env.SLUICE_CHECK_FAULTS;
  return bound === undefined ? spec : { ...spec, maxFaults: Number(bound) };
}

async function runOne(index: number): Promise<Result> {
  const started = Date.now();
  const report = await explore(buildScenario(specOf(index)));
  return { report: { ...report, worldStates: undefined }, seconds: (Date.now() - started) / 1000 };
}

/** Runs one scenario in a child process (the same command with `--one <index>`): its result is its last line. */
function runInWorker(index: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--one', String(index)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`worker for scenario ${index} failed (exit ${code})`));
      else resolve(JSON.parse(last) as Result);
    });
  });
}

function print(spec: ScenarioSpec, { report, seconds }: Result): void {
  console.log(
    `${spec.name} (faults <= ${spec.maxFaults}${spec.faultsAt ? ` at ${spec.faultsAt.join('/')}` : ''}${spec.faultActors ? ` in ${spec.faultActors.join('/')}` : ''}): ` +
      `${summaryLine({ scenarios: 1, schedules: report.schedules, violations: report.violations })}  ` +
      `states: ${report.states}  ends: ${report.ends}  transitions: ${report.transitions}  subsumed: ${report.subsumed}${report.truncated ? '  TRUNCATED' : ''}  ` +
      `(${seconds.toFixed(1)} s)`,
  );
  if (report.counterexample) {
    console.log(`  violation: ${report.counterexample.message}`);
    console.log(`  shortest failing schedule (${report.counterexample.trace.length} calls):`);
    for (const line of report.counterexample.trace) console.log(`    ${line}`);
  }
}

/** Rough cost order (the two widest first), so the workers finish close together. */
const ORDER_HINT = ['an arrival races its end', 'two objects, two concurrent'];

async function main(): Promise<void> {
  if (process.argv[2] === '--one') {
    console.log(JSON.stringify(await runOne(Number(process.argv[3]))));
    return;
  }
  const only = process.argv[2];
  const started = Date.now();
  const indices = SCENARIOS.map((s, i) => ({ s, i }))
    .filter(({ s }) => !only || s.name.includes(only))
    // SLUICE_CHECK_SKIP=text: leaves out the scenarios whose name contains it.
    .filter(({ s }) => !process.env.SLUICE_CHECK_SKIP || !s.name.includes(process.env.SLUICE_CHECK_SKIP))
    .map(({ i }) => i);
  const jobs = Math.max(1, Number(process.env.SLUICE_CHECK_JOBS ?? 2));
  const results = new Map<number, Result>();
  if (jobs === 1 || indices.length === 1) {
    for (const i of indices) {
      results.set(i, await runOne(i));
      print(specOf(i), results.get(i)!);
    }
  } else {
    const rank = (i: number) => {
      const r = ORDER_HINT.findIndex((h) => SCENARIOS[i]!.name.includes(h));
      return r < 0 ? ORDER_HINT.length : r;
    };
    const queue = [...indices].sort((a, b) => rank(a) - rank(b));
    let next = 0;
    const worker = async () => {
      while (next < queue.length) {
        const i = queue[next++]!;
        results.set(i, await runInWorker(i));
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
    for (const i of indices) print(specOf(i), results.get(i)!);
  }
  let schedules = 0;
  let violations = 0;
  for (const { report } of results.values()) {
    schedules += report.schedules;
    violations += report.violations;
  }
  console.log(summaryLine({ scenarios: results.size, schedules, violations }));
  console.log(`(${((Date.now() - started) / 60000).toFixed(1)} minutes, ${jobs} worker${jobs === 1 ? '' : 's'})`);
  process.exitCode = violations > 0 ? 1 : 0;
}

void main();
