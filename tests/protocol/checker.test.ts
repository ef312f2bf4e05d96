/**
 * The protocol checker (tests/protocol/checker.ts) inside `npm test`, on a bounded set of its scenarios: every
 * schedule of each, exhaustively (no sampling), in a few seconds. `npm run check:protocol` runs all of them.
 * The checker's own sharpness is tested too: a protocol with a known flaw (the give-back without the arrival
 * counter, defect 2) must produce a violation and a counterexample.
 */
import { DynamoRunLeases } from '../../adapters/aws/dynamo-state';
import { explore } from './checker';
import { buildScenario, SCENARIOS, type ScenarioSpec } from './scenarios';

const BOUNDED = ['one object, one intake', 'a run fails a partition', 'an arrival while the run ends (late event)'];

test.each(SCENARIOS.filter((s) => BOUNDED.includes(s.name)).map((s) => [s.name, s] as const))(
  'every schedule of "%s" keeps I1-I3 and I6',
  async (_name, spec: ScenarioSpec) => {
    const report = await explore(buildScenario(spec));
    expect(report.truncated).toBe(false);
    expect(report.counterexample).toBeUndefined();
    expect(report.violations).toBe(0);
    expect(report.schedules).toBeGreaterThan(0);
  },
  300_000,
);

test('the checker finds the stranded arrival of a give-back that ignores the arrival counter (defect 2)', async () => {
  const release = DynamoRunLeases.prototype.release;
  DynamoRunLeases.prototype.release = function (dataset, owner, expiresAt) {
    return release.call(this, dataset, owner, expiresAt); // the counter condition dropped
  };
  try {
    const report = await explore(
      buildScenario({ name: 'flawed', maxFaults: 0, batches: [['1/1']], lateBatches: [['2/2']] }),
    );
    expect(report.violations).toBeGreaterThan(0);
    expect(report.counterexample?.message).toMatch(/I1|L1/);
  } finally {
    DynamoRunLeases.prototype.release = release;
  }
}, 300_000);
