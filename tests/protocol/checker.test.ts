/**
 * The protocol checker (tests/protocol/checker.ts) inside `npm test`, on a bounded set of its scenarios: every
 * schedule of each, exhaustively (no sampling), in a few seconds. `npm run check:protocol` runs all of them.
 * The checker's own sharpness is tested too: a protocol with a known flaw (the give-back without the arrival
 * counter, defect 2) must produce a violation and a counterexample.
 */
import { DynamoRunLeases } from '../../adapters/aws/dynamo-state';
import { SnsNotifier } from '../../adapters/aws/sns';
import { explore, type SearchOptions } from './checker';
import { buildScenario, SCENARIOS, type ScenarioSpec } from './scenarios';

// Inside `npm test`, within ~30 s: these scenarios at the bounds given here (`npm run check:protocol` runs every
// scenario at its own, larger bounds). A mutation run (`npm run mutate`) runs this file for nearly every mutant:
// there, the first only.
const BOUNDED: Array<[string, number]> = process.env.SLUICE_MUTATION_RUN
  ? [['one object, one intake', 1]]
  : [
      ['one object, one intake', 1],
      ['a run fails a partition (one fault anywhere)', 1],
      ['an arrival while the run ends (late event)', 0],
    ];

test.each(
  BOUNDED.map(([name, maxFaults]) => {
    const spec = SCENARIOS.find((s) => s.name === name)!;
    return [`${name} (faults <= ${maxFaults})`, { ...spec, maxFaults }] as const;
  }),
)(
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

test('the checker finds the second notification of a notify step without deduplication (defect 8)', async () => {
  const publish = SnsNotifier.prototype.publish;
  let attempt = 0;
  SnsNotifier.prototype.publish = function (n) {
    // A fresh id per attempt: what a standard topic amounts to.
    return publish.call(this, { ...n, deduplicationId: `${n.deduplicationId}#${++attempt}` });
  };
  try {
    const report = await explore(
      buildScenario({ name: 'flawed notify', maxFaults: 1, batches: [['1/1']], failDay: 1, faultsAt: ['Publish'] }),
    );
    expect(report.violations).toBeGreaterThan(0);
    expect(report.counterexample?.message).toMatch(/I6: .* notified 2 times/);
  } finally {
    SnsNotifier.prototype.publish = publish;
  }
}, 300_000);

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

// The reductions (sleep sets, fault-budget subsumption, the footprints of tests/protocol/scenarios.ts) prune
// transitions and revisits, never states: the same reachable states come out with them off, and a seeded flaw that
// needs a fault (defect 8, above) or an interleaving (defect 2) is still found with them on.
test('the reductions reach every state the unreduced search reaches', async () => {
  const spec = { ...SCENARIOS.find((s) => s.name === 'one object, one intake')!, maxFaults: 1 };
  const run = (options: SearchOptions) => explore(buildScenario(spec), undefined, { ...options, collectStates: true });
  const reduced = await run({ sleepSets: true, subsumption: true });
  const full = await run({ sleepSets: false, subsumption: false });
  expect(reduced.truncated || full.truncated).toBe(false);
  expect(reduced.violations).toBe(full.violations);
  expect(reduced.transitions).toBeLessThan(full.transitions);
  expect(reduced.subsumed).toBeGreaterThan(0); // the subsumption did cut visits here
  expect([...reduced.worldStates!].sort()).toEqual([...full.worldStates!].sort());
}, 300_000);
