/**
 * `npm run check:protocol`: explores every schedule of every scenario (tests/protocol/scenarios.ts) within its
 * fault bound, on the real cores and adapters. Prints one line per scenario and the total; exits 1 on any
 * violation, printing the shortest failing schedule found.
 */
import { explore, summaryLine } from './checker';
import { buildScenario, SCENARIOS } from './scenarios';

async function main(): Promise<void> {
  const only = process.argv[2];
  let schedules = 0;
  let violations = 0;
  let scenarios = 0;
  for (let spec of SCENARIOS) {
    if (only && !spec.name.includes(only)) continue;
    const started = Date.now();
    // SLUICE_CHECK_FAULTS=n: every scenario with that fault bound instead of its own (for measuring).
    const bound = process.env.SLUICE_CHECK_FAULTS;
    if (bound !== undefined) spec = { ...spec, maxFaults: Number(bound) };
    const report = await explore(buildScenario(spec));
    scenarios++;
    schedules += report.schedules;
    violations += report.violations;
    console.log(
      `${spec.name} (faults <= ${spec.maxFaults}${spec.faultsAt ? ` at ${spec.faultsAt.join('/')}` : ''}${spec.faultActors ? ` in ${spec.faultActors.join('/')}` : ''}): ` +
        `${summaryLine({ scenarios: 1, schedules: report.schedules, violations: report.violations })}  ` +
        `states: ${report.states}  ends: ${report.ends}  transitions: ${report.transitions}${report.truncated ? '  TRUNCATED' : ''}  ` +
        `(${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    if (report.counterexample) {
      console.log(`  violation: ${report.counterexample.message}`);
      console.log(`  shortest failing schedule (${report.counterexample.trace.length} calls):`);
      for (const line of report.counterexample.trace) console.log(`    ${line}`);
    }
  }
  console.log(summaryLine({ scenarios, schedules, violations }));
  process.exitCode = violations > 0 ? 1 : 0;
}

void main();
