/**
 * One measured run for the issue-12 figures: N partitions through the real ASL in the local interpreter (the
 * runner supplies the Distributed Map's ItemReader/ResultWriter around it), with the in-memory ports, every job
 * succeeding or every job failing. Child events are counted as they come, never kept, so 100,000 children fit.
 */
import type { LocalEvent } from '../../runtime/state-machine';
import { parseConfig } from '../../domain/config/config';
import type { JobPort } from '../../domain/common';
import type { PartitionValues } from '../../schemas/types.generated';
import { fakeWorld, ORDERS_CONFIG, type FakeWorld } from './fakes';
import { figureLine, type Figures } from './limits-figures';
import { runManual } from './machine';

/** History events AWS records per state (Task: entered, scheduled, started, succeeded, exited; a Distributed Map
 * in its parent: entered, MapRunStarted, MapRunSucceeded, exited). */
const EVENTS_PER_STATE: Record<string, number> = { Task: 5, Map: 4, Wait: 2, Choice: 2, Pass: 2, Succeed: 2, Fail: 2 };
const MAP_STATE = 'Process each partition';

/** The parent's history length as AWS would record it: start and end, plus each state's events and retries. */
export function parentHistoryEvents(events: readonly LocalEvent[]): number {
  let n = 2;
  for (const e of events) {
    if (e.index !== undefined) continue;
    if (e.type === 'StateEntered')
      n += e.state?.name === MAP_STATE ? EVENTS_PER_STATE.Map! : (EVENTS_PER_STATE[e.state?.type ?? ''] ?? 2);
    if (e.type === 'StateRetried') n += 3;
  }
  return n;
}

const bytes = (value: unknown): number => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value)));

/** N consecutive days from 2001-01-01: distinct, valid partitions of the orders dataset. */
export function days(n: number): PartitionValues[] {
  return Array.from({ length: n }, (_, i) => {
    const date = new Date(Date.UTC(2001, 0, 1) + i * 86_400_000);
    return {
      year: String(date.getUTCFullYear()),
      month: String(date.getUTCMonth() + 1).padStart(2, '0'),
      day: String(date.getUTCDate()).padStart(2, '0'),
    };
  });
}

/** A Glue error message of the usual length (Spark's are often longer: the summary clips them to 200). */
const FAILURE = `AnalysisException: [CAST_INVALID_INPUT] The value 'n/a' of the type "STRING" cannot be cast to "DECIMAL(12,2)" because it is malformed. Correct the value as per the syntax, or change its target type.`;

export interface MeasuredRun extends Figures {
  status: string;
  snsMessages: number;
  jobRuns: number;
  seconds: number;
  line: string;
}

export type RunInput = { form: 'partitions' | 'range' | 'manifest' };

/** A world whose orders dataset may run 1,000 jobs at a time (the Map's MaxConcurrency). */
export function wideWorld(): FakeWorld {
  const document = structuredClone(ORDERS_CONFIG);
  Object.assign(document.datasets[0]!, { fanOut: { maxConcurrency: 1000 }, job: { maxConcurrentRuns: 1000 } });
  const world = fakeWorld(parseConfig(document));
  // The indexed look-up the local Glue store has (JobPort.listJobRunsOfPartition): without it every start lists
  // the 600 most recent runs, which is what Glue makes the AWS adapter do, but costs minutes at 100,000 starts.
  const jobs = world.jobs;
  const listJobRunsOfPartition: JobPort['listJobRunsOfPartition'] = async (_job, partition) =>
    [...(ofPartition.get(partition) ?? [])]
      .reverse()
      .map(({ jobName: _j, pollsLeft: _p, script: _s, ...info }) => ({ ...info, arguments: { ...info.arguments } }));
  Object.assign(jobs, { listJobRunsOfPartition });
  const ofPartition = new Map<string, FakeWorld['jobs']['runs']>();
  const start = jobs.startJobRun.bind(jobs);
  jobs.startJobRun = async (job, args) => {
    const id = await start(job, args);
    const partition = args['--sluice_partition'] ?? '';
    ofPartition.set(partition, [...(ofPartition.get(partition) ?? []), jobs.runs[jobs.runs.length - 1]!]);
    return id;
  };
  return world;
}

/** The manual input naming N days: explicit (up to 5,000), a range, or a manifest uploaded to the artifacts bucket. */
async function inputFor(world: FakeWorld, n: number, form: RunInput['form']): Promise<Record<string, unknown>> {
  const list = days(n);
  if (form === 'partitions') return { dataset: 'orders', partitions: list, skipCrawler: true };
  if (form === 'range') return { dataset: 'orders', range: { from: list[0], to: list[n - 1] }, skipCrawler: true };
  const at = { bucket: world.artifacts.bucket, key: `manifests/backfill-${n}.json` };
  await world.artifacts.put(at, JSON.stringify(list));
  return { dataset: 'orders', manifest: `s3://${at.bucket}/${at.key}`, skipCrawler: true };
}

export async function measureRun(
  partitions: number,
  outcome: Figures['outcome'],
  form: RunInput['form'] = 'range',
): Promise<MeasuredRun> {
  const world = wideWorld();
  world.jobs.script = () =>
    outcome === 'all-succeeded'
      ? { pollsToFinish: 0, finalState: 'SUCCEEDED' }
      : { pollsToFinish: 0, finalState: 'FAILED', errorMessage: FAILURE };
  const input = await inputFor(world, partitions, form);
  let largest = 0;
  let childTransitions = 0;
  const started = Date.now();
  const result = await runManual(world, input, {
    onChildEvent: (_child, e) => {
      if (e.type === 'StateEntered') childTransitions++;
      largest = Math.max(largest, bytes(e.state?.input), bytes(e.state?.output));
    },
  });
  const seconds = (Date.now() - started) / 1000;

  for (const e of result.events) largest = Math.max(largest, bytes(e.state?.input), bytes(e.state?.output));
  const figures: Figures = {
    partitions,
    outcome,
    largestStatePayload: largest,
    snsMessage: world.notifier.published.reduce((max, m) => Math.max(max, Buffer.byteLength(m.message)), 0),
    parentHistoryEvents: parentHistoryEvents(result.events),
    transitionsPerPartition: childTransitions / partitions,
  };
  return {
    ...figures,
    status: result.status,
    snsMessages: world.notifier.published.length,
    jobRuns: world.jobs.runs.length,
    seconds,
    line: figureLine(figures),
  };
}
