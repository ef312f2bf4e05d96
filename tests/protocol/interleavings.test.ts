/**
 * The run protocol under concurrency and faults at every DynamoDB call (tests/protocol/model.ts), in bounded
 * time for `npm test`. `npm run bench:protocol` runs the same model for 10,000+ interleavings.
 * A failure prints fast-check's seed and path; replay with SLUICE_PROTOCOL_SEED=<seed>.
 */
import fc from 'fast-check';
import { planArbitrary, PROTOCOL_SEED, runSeededScenario } from './model';

const RUNS = Number(process.env.SLUICE_PROTOCOL_RUNS ?? 50);

test(`${RUNS} interleavings of intakes, runs, status events, catch-ups and lease expiries keep every promise`, async () => {
  let interleavings = 0;
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), planArbitrary, async (s, plan) => {
      interleavings++;
      await runSeededScenario(s, plan);
    }),
    { seed: PROTOCOL_SEED, numRuns: RUNS, endOnFailure: true },
  );
  expect(interleavings).toBeGreaterThanOrEqual(RUNS);
}, 600_000);
