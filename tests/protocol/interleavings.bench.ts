/**
 * `npm run bench:protocol`: the interleaving model (tests/protocol/model.ts) for 10,000+ interleavings with a
 * fixed seed; prints the count, interleavings per second, and the seed (replay a failure with
 * SLUICE_PROTOCOL_SEED=<seed> and the printed path). SLUICE_PROTOCOL_RUNS sets the count.
 */
import fc from 'fast-check';
import { planArbitrary, PROTOCOL_SEED, runSeededScenario } from './model';

async function main(): Promise<void> {
  const runs = Number(process.env.SLUICE_PROTOCOL_RUNS ?? 10_000);
  let interleavings = 0;
  let calls = 0;
  let checks = 0;
  const started = performance.now();
  const report = setInterval(() => {
    const seconds = (performance.now() - started) / 1000;
    console.log(`  ... ${interleavings} interleavings, ${(interleavings / seconds).toFixed(1)}/s`);
  }, 30_000);
  try {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), planArbitrary, async (s, plan) => {
        const result = await runSeededScenario(s, plan);
        interleavings++;
        calls += result.dynamoCalls;
        checks += result.checks;
      }),
      { seed: PROTOCOL_SEED, numRuns: runs, endOnFailure: true },
    );
  } catch (error) {
    console.error(`protocol model FAILED (seed ${PROTOCOL_SEED}) after ${interleavings} interleavings`);
    throw error;
  } finally {
    clearInterval(report);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `protocol model: ${interleavings} interleavings passed in ${seconds.toFixed(1)} s = ` +
      `${(interleavings / seconds).toFixed(1)} interleavings/s; ${calls} DynamoDB calls with faults, ` +
      `${checks} invariant checks at quiescent points; seed ${PROTOCOL_SEED}`,
  );
}

void main();
