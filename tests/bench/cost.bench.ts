/**
 * Issue 23's cost and time figures: each scenario through the real ASL in the local interpreter, with the fakes
 * (in-memory ports; a raw bucket whose partitions hold the scenario's bytes, listed by the plan step), and the
 * model's billing and time (domain/cost/run-costs.ts):
 *
 *   npm run bench:cost [-- --full] [--scenarios 1000x10MB,24x1GB] [--skip-crawler]
 *
 * Prints one line per scenario, each also with `partitionsPerRun: 1` (the baseline, one Glue job run per partition):
 *   scenario: NAME partitions: N job runs: J glue dollars: D crawler dollars: C wall hours: W fits one execution: yes|no
 * and, after `#`, how it was measured and the state transitions per partition. Exit 1 when a goal is missed.
 *
 * Simulated time: every job run the flow starts takes the model's time for the bytes of its batch (30 s start-up,
 * 25 MB/s per DPU) and bills the model's dollars (per second, 1-minute minimum, 2 DPU); runs start in the order
 * the Map started them, at most the Map's MaxConcurrency (min(fanOut.maxConcurrency, job.maxConcurrentRuns)) at once.
 * A run over the time budget (half the 48 h execution timeout) is refused by prepare-run; it then runs as the
 * refusal says, as consecutive executions of what fits, one after another. One crawl per execution at the model's
 * 10-minute minimum (none with --skip-crawler); the crawl's own duration is not modelled (wall hours are job runs).
 *
 * Bounded: a scenario over 20,000 single-partition job runs (the 100,000-partition baseline) is not driven whole
 * unless --full (about 100,000 child executions through the interpreter, many minutes on a shared laptop). Its
 * partitions are all the same size, so every execution of it is the same: the bench drives its first execution's
 * first 1,000 partitions through the ASL and checks that every job run of it is one partition of the scenario's
 * size; the job runs, dollars and wall time are then the model's for the plan the same planner makes for all of
 * them (planJobBatches with partitionsPerRun 1: one run per partition), in the executions the budget splits it
 * into. The `#` line says so.
 */
import './quiet-logs';
import { parseArgs } from 'node:util';
import { parseS3Uri } from '../../domain/common';
import { partitionsWithinTimeBudget } from '../../domain/runs';
import { parseConfig } from '../../domain/config/config';
import { batchPlanOptions, modelPlan, planJobBatches } from '../../domain/cost';
import {
  crawlDollars,
  jobRunDollars,
  jobRunSeconds,
  transitionDollars,
  wallSecondsOf,
} from '../../domain/cost/run-costs';
import { BATCH_ARGUMENT } from '../../domain/steps';
import type { JobBatch, PartitionValues } from '../../schemas/types.generated';
import { fakeWorld, ORDERS_CONFIG, type FakeWorld } from '../support/fakes';
import { days } from '../support/limits-run';
import { runManual } from '../support/machine';

const MB = 1_000_000;
const GB = 1_000_000_000;

interface Scenario {
  name: string;
  partitions: number;
  bytes: number;
  goal?: { dollars: number; hours: number; noSlowerThanBaseline?: boolean };
}

const SCENARIOS: Scenario[] = [
  { name: '1000x10MB', partitions: 1000, bytes: 10 * MB, goal: { dollars: 1.5, hours: 0.5 } },
  { name: '100000x10MB', partitions: 100_000, bytes: 10 * MB, goal: { dollars: 150, hours: 4.8 } },
  {
    name: '24x1GB',
    partitions: 24,
    bytes: 1 * GB,
    goal: { dollars: 0.36, hours: Infinity, noSlowerThanBaseline: true },
  },
];

/** Beyond this many single-partition job runs, the baseline is bounded unless --full (see the header). */
const DRIVEN_SINGLE_RUNS = 20_000;
const SAMPLE = 1000;

interface Figures {
  name: string;
  partitions: number;
  jobRuns: number;
  glueDollars: number;
  crawlerDollars: number;
  wallSeconds: number;
  executions: number;
  transitions: number;
  note: string;
  ok: boolean;
}

function worldFor(scenario: Scenario, partitionsPerRun: 'auto' | 1): FakeWorld {
  const document = structuredClone(ORDERS_CONFIG);
  // The orders settings of the README and docs/batches.md: 5 runs at once, 2 G.1X workers, 60-minute job timeout.
  Object.assign(document.datasets[0]!, {
    fanOut: { maxConcurrency: 5 },
    job: { maxConcurrentRuns: 5, partitionsPerRun },
  });
  const world = fakeWorld(parseConfig(document));
  world.deps.objects = { headObject: async () => 'exists', prefixBytes: async () => scenario.bytes };
  world.jobs.script = () => ({ pollsToFinish: 0, finalState: 'SUCCEEDED' });
  return world;
}

/** The bytes of a job run the flow started: its batch file's partitions, or its one partition. */
async function runBytes(world: FakeWorld, args: Record<string, string>, perPartition: number): Promise<number> {
  const uri = args[BATCH_ARGUMENT];
  if (uri === undefined) return perPartition;
  const batch = JSON.parse((await world.artifacts.get(parseS3Uri(uri)))!) as JobBatch;
  return batch.partitions.reduce((sum, p) => sum + (p.bytes ?? 0), 0);
}

/** Consecutive slices of the partitions, each what one execution's time budget takes (as the refusal says). */
function executionsOf(world: FakeWorld, partitions: PartitionValues[], bytes: number): PartitionValues[][] {
  const dataset = world.deps.config.datasets[0]!;
  const options = batchPlanOptions(world.deps.config, dataset);
  const out: PartitionValues[][] = [];
  for (let at = 0; at < partitions.length;) {
    const rest = partitions.slice(at).map((partition) => ({ partition, bytes }));
    const take = partitionsWithinTimeBudget(rest, options);
    out.push(partitions.slice(at, at + take));
    at += take;
  }
  return out;
}

async function drive(
  scenario: Scenario,
  partitionsPerRun: 'auto' | 1,
  options: { full: boolean; skipCrawler: boolean },
): Promise<Figures> {
  const name = partitionsPerRun === 1 ? `${scenario.name}/partitionsPerRun=1` : scenario.name;
  const world = worldFor(scenario, partitionsPerRun);
  const dataset = world.deps.config.datasets[0]!;
  const plan = batchPlanOptions(world.deps.config, dataset);
  const concurrency = Math.min(dataset.fanOut.maxConcurrency, dataset.job.maxConcurrentRuns);
  const all = days(scenario.partitions);
  const executions = executionsOf(world, all, scenario.bytes);
  const bounded = partitionsPerRun === 1 && scenario.partitions > DRIVEN_SINGLE_RUNS && !options.full;
  const driven = bounded ? [executions[0]!.slice(0, SAMPLE)] : executions;

  const started: Array<Record<string, string>> = [];
  const start = world.jobs.startJobRun.bind(world.jobs);
  world.jobs.startJobRun = async (job, args) => {
    started.push(args);
    return start(job, args);
  };
  let transitions = 0;
  let wallSeconds = 0;
  let jobRuns = 0;
  let glueDollars = 0;
  let drivenPartitions = 0;
  for (const [i, slice] of driven.entries()) {
    started.length = 0;
    const input = {
      dataset: 'orders',
      range: { from: slice[0], to: slice[slice.length - 1] },
      skipCrawler: options.skipCrawler,
    };
    const result = await runManual(world, input, {
      executionArn: `arn:aws:states:eu-west-1:123456789012:execution:sluice-test:cost-${i}`,
      onChildEvent: (_child, e) => {
        if (e.type === 'StateEntered') transitions++;
      },
      expectStatus: 'SUCCEEDED',
    });
    transitions += result.events.filter((e) => e.type === 'StateEntered' && e.index === undefined).length;
    const durations: number[] = [];
    for (const args of started) {
      const seconds = jobRunSeconds(await runBytes(world, args, scenario.bytes), plan.dpu);
      durations.push(seconds);
      glueDollars += jobRunDollars(seconds, plan.dpu);
    }
    jobRuns += started.length;
    wallSeconds += wallSecondsOf(durations, concurrency);
    drivenPartitions += slice.length;
  }
  let note = `driven: ${driven.length} execution(s), ${drivenPartitions} partitions through the ASL`;
  if (bounded) {
    // Every job run of the sample was one partition of the scenario's size: the rest are the same runs.
    if (jobRuns !== drivenPartitions)
      throw new Error(`${name}: ${jobRuns} job runs for ${drivenPartitions} partitions`);
    const perRun = glueDollars / jobRuns;
    const modelled = executions.map((slice) =>
      modelPlan(
        planJobBatches(
          slice.map(() => ({ bytes: scenario.bytes })),
          { ...plan, partitionsPerRun: 1 },
        ),
        plan,
      ),
    );
    jobRuns = modelled.reduce((sum, m) => sum + m.jobRuns, 0);
    glueDollars = perRun * jobRuns;
    wallSeconds = modelled.reduce((sum, m) => sum + m.wallSeconds, 0);
    transitions = (transitions / drivenPartitions) * scenario.partitions;
    note =
      `bounded: the first ${drivenPartitions} partitions driven through the ASL (${drivenPartitions} job runs, ` +
      `$${perRun.toFixed(5)} each); the other ${scenario.partitions - drivenPartitions} are the same runs, ` +
      `in ${executions.length} consecutive executions of at most ${executions[0]!.length} (the time budget)`;
  }
  const crawls = options.skipCrawler ? 0 : executions.length;
  return {
    name,
    partitions: scenario.partitions,
    jobRuns,
    glueDollars,
    crawlerDollars: crawls * crawlDollars(0),
    wallSeconds,
    executions: executions.length,
    transitions,
    note,
    ok: true,
  };
}

const line = (f: Figures): string =>
  `scenario: ${f.name} partitions: ${f.partitions} job runs: ${f.jobRuns} glue dollars: ${f.glueDollars.toFixed(2)} ` +
  `crawler dollars: ${f.crawlerDollars.toFixed(2)} wall hours: ${(f.wallSeconds / 3600).toFixed(2)} ` +
  `fits one execution: ${f.executions === 1 ? 'yes' : 'no'}`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      full: { type: 'boolean', default: false },
      'skip-crawler': { type: 'boolean', default: false },
      scenarios: { type: 'string', default: SCENARIOS.map((s) => s.name).join(',') },
    },
  });
  const wanted = String(values.scenarios).split(',');
  let missed = 0;
  for (const scenario of SCENARIOS.filter((s) => wanted.includes(s.name))) {
    const options = { full: values.full === true, skipCrawler: values['skip-crawler'] === true };
    const batched = await drive(scenario, 'auto', options);
    const baseline = await drive(scenario, 1, options);
    const problems: string[] = [];
    const goal = scenario.goal;
    if (goal) {
      if (batched.glueDollars > goal.dollars)
        problems.push(`glue $${batched.glueDollars.toFixed(2)} > $${goal.dollars}`);
      if (batched.wallSeconds / 3600 > goal.hours)
        problems.push(`wall ${(batched.wallSeconds / 3600).toFixed(2)} h > ${goal.hours} h`);
      if (goal.noSlowerThanBaseline && batched.wallSeconds > baseline.wallSeconds)
        problems.push(
          `slower than the baseline (${batched.wallSeconds.toFixed(0)} s > ${baseline.wallSeconds.toFixed(0)} s)`,
        );
      if (batched.executions !== 1) problems.push('does not fit one execution');
    }
    missed += problems.length;
    for (const f of [batched, baseline]) {
      console.log(line(f));
      console.log(
        `#   ${f.note}; state transitions per partition ${(f.transitions / f.partitions).toFixed(3)} ` +
          `($${transitionDollars(f.transitions).toFixed(2)} of Step Functions)` +
          (f === batched && problems.length > 0 ? `; MISSED: ${problems.join(', ')}` : ''),
      );
    }
  }
  return missed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
