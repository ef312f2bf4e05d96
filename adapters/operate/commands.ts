/**
 * The operate commands, written once against StageBackend: `status`, `runs`, `backfill`, `rerun <execution>`,
 * `logs <execution>`. The CLI (cli/sluice.ts) picks the backend: a deployed stage (--stage) or the local lake.
 */
import { type ResolvedConfig, datasetNamed, partitionKey } from '../../domain/config';
import type { ExecutionInput } from '../../schemas/types.generated';
import { OperateError, type ExecutionProgress, type RunRecord, type StageBackend } from './ports';
import { MAX_RANGE_PARTITIONS } from '../../domain/inputs';
import { backfillInput, MAX_PARTITIONS_PER_EXECUTION, parsePartitionArg } from './range';
import { formatRunCost, formatRunCostShort } from '../../domain/cost';

export interface Io {
  out(line: string): void;
  /** Rewrites the current terminal line (progress bar); absent when stdout is not a terminal. */
  redraw?(line: string): void;
  json: boolean;
  now(): Date;
  sleep(ms: number): Promise<void>;
  /** Starts listening for the user's wish to detach (Ctrl-C) while a run is followed; resolves on it. */
  detach?: () => Promise<void>;
}

export const RANGE_NOTE =
  `the range is expanded here into explicit partitions (at most ${MAX_PARTITIONS_PER_EXECUTION}, the ` +
  "execution input's limit): this stage's execution input takes no range";

/** What `backfill --help` says about the range: it is sent as one range input, expanded by the run's first step. */
export const RANGE_HELP =
  `the range is sent as one range input (at most ${MAX_RANGE_PARTITIONS.toLocaleString('en-US')} partitions) and ` +
  "expanded by the run's first step into the list its partition map reads; it is also expanded here first, so a " +
  'bad range fails before anything starts and the progress bar knows the count';

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

const secondsBetween = (from: string | undefined, to: Date): number | undefined =>
  from ? (to.getTime() - Date.parse(from)) / 1000 : undefined;

const runSeconds = (r: RunRecord, now: Date): number | undefined =>
  r.startedAt ? ((r.stoppedAt ? Date.parse(r.stoppedAt) : now.getTime()) - Date.parse(r.startedAt)) / 1000 : undefined;

const shortName = (arn: string): string => arn.split(':').pop() ?? arn;
const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

function table(io: Io, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  io.out(line(header));
  for (const r of rows) io.out(line(r));
}

// ---------- status ----------

export async function statusCommand(backend: StageBackend, io: Io): Promise<number> {
  const now = io.now();
  const statuses = await backend.status(now);
  if (io.json) {
    io.out(
      JSON.stringify(
        {
          stage: backend.label,
          at: now.toISOString(),
          datasets: statuses.map((s) => ({
            ...s,
            freshnessSeconds: s.newestQueryableArrivalAt
              ? Math.round(secondsBetween(s.newestQueryableArrivalAt, now) ?? 0)
              : null,
          })),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  io.out(`${backend.label}, ${now.toISOString()}`);
  table(
    io,
    ['dataset', 'fresh', 'lease', 'pending', 'last run'],
    statuses.map((s) => [
      s.dataset,
      s.newestQueryableArrivalAt ? formatDuration(secondsBetween(s.newestQueryableArrivalAt, now)) : 'never',
      s.lease
        ? `${shortName(s.lease.holder)}${s.lease.since ? ` for ${formatDuration(secondsBetween(s.lease.since, now))}` : ''}`
        : 'free',
      s.pending
        ? `${plural(s.pending.partitions, 'partition')}, oldest ${formatDuration(secondsBetween(s.pending.oldestArrivalAt, now))} ago`
        : 'none',
      s.lastRun
        ? s.lastRun.status === 'RUNNING' && s.lastRun.step
          ? `RUNNING for ${formatDuration(runSeconds(s.lastRun, now))}, at ${s.lastRun.step} (${shortName(s.lastRun.executionArn)})`
          : `${s.lastRun.status} ${formatDuration(runSeconds(s.lastRun, now))}, ${formatDuration(
              secondsBetween(s.lastRun.stoppedAt ?? s.lastRun.startedAt, now),
            )} ago (${shortName(s.lastRun.executionArn)})${s.lastRun.cost ? `, cost ${formatRunCostShort(s.lastRun.cost)}` : ''}`
        : 'none',
    ]),
  );
  io.out('fresh = time since the newest arrival that is queryable');
  // Issue 24: schemas that drifted from the mapping, each named once with the first file that has it.
  for (const line of statuses.flatMap((s) => s.schemaDrift ?? [])) io.out(`schema: ${line}`);
  for (const s of statuses) if (s.lastRun?.cost) io.out(`${s.dataset} last run cost: ${formatRunCost(s.lastRun.cost)}`);
  return 0;
}

// ---------- runs ----------

export async function runsCommand(
  backend: StageBackend,
  io: Io,
  query: { dataset?: string; failedOnly?: boolean; limit: number },
): Promise<number> {
  const runs = await backend.runs(query);
  const now = io.now();
  if (io.json) {
    io.out(JSON.stringify(runs, null, 2));
    return 0;
  }
  if (runs.length === 0) {
    io.out(
      `no ${query.failedOnly ? 'failed ' : ''}runs${query.dataset ? ` of ${query.dataset}` : ''} in ${backend.label}`,
    );
    return 0;
  }
  // Rows (RowsIn/RowsOut/RowsBad, summed over the run's partitions) are known where the run history keeps its
  // metrics (the local lake); a deployed stage's runs are listed from Step Functions, which has no row counts.
  const withRows = runs.some((r) => r.rows);
  const rowsCell = (r: RunRecord): string[] =>
    withRows ? [r.rows ? `${r.rows.in} in, ${r.rows.out} out, ${r.rows.bad} bad` : '-'] : [];
  // Cost per run: billed (a stage, from AWS's figures) or modelled (local runs, marked so).
  const withCost = runs.some((r) => r.cost);
  const costCell = (r: RunRecord): string[] => (withCost ? [r.cost ? formatRunCostShort(r.cost) : '-'] : []);
  table(
    io,
    [
      'execution',
      'dataset',
      'status',
      'started',
      'took',
      'partitions',
      ...(withRows ? ['rows'] : []),
      ...(withCost ? ['cost'] : []),
      'failure',
    ],
    runs.map((r) => [
      r.name,
      r.dataset,
      r.status,
      r.startedAt.replace(/\.\d{3}Z$/, 'Z'),
      formatDuration(runSeconds(r, now)),
      r.partitions ? `${r.partitions.processed} ok, ${r.partitions.failed} failed` : '-',
      ...rowsCell(r),
      ...costCell(r),
      r.failure
        ? `${r.failure.step}: ${r.failure.error}: ${r.failure.cause}`.slice(0, 160)
        : r.step
          ? `(in flight: ${r.step})`
          : '',
    ]),
  );
  if (withCost) {
    io.out('cost = Glue + crawler + Athena + Step Functions dollars; each run split:');
    for (const r of runs) if (r.cost) io.out(`  ${r.name}  ${formatRunCost(r.cost)}`);
  }
  return 0;
}

// ---------- backfill, rerun: start, then follow ----------

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * The Distributed Map's items: "finished" is an item (one job run: a partition, or a batch of them when the plan
 * batched, docs/batches.md) that ran to its end, "failed" an item whose child execution failed. Each item catches
 * its own job failure and reports it as its result, so a partition whose job failed counts as finished here; the
 * line after the bar gives the partitions processed and failed.
 */
export function progressBar(p: ExecutionProgress, width = 30): string {
  const map = p.map;
  if (!map || map.total === 0) return `${p.status.toLowerCase()}: waiting for the partition map to start`;
  const done = map.succeeded + map.failed;
  const full = Math.round((done / map.total) * width);
  const failed = Math.min(full, Math.round((map.failed / map.total) * width));
  const bar = '#'.repeat(full - failed) + 'x'.repeat(failed) + '.'.repeat(width - full);
  return `[${bar}] ${done}/${map.total} items  ${map.succeeded} finished  ${map.failed} failed  ${map.running} running`;
}

/** Polls until the execution ends or the user detaches; shows the Distributed Map's item counts as a bar. */
export async function follow(backend: StageBackend, io: Io, executionArn: string, intervalMs: number): Promise<number> {
  let detached = false;
  const detach = io.detach?.() ?? new Promise<void>(() => undefined);
  void detach.then(() => {
    detached = true;
  });
  let last = '';
  for (;;) {
    const p = await backend.progress(executionArn);
    const line = progressBar(p);
    if (!io.json && line !== last) {
      if (io.redraw) io.redraw(line);
      else io.out(line);
      last = line;
    }
    if (TERMINAL.has(p.status)) {
      if (io.redraw && !io.json) io.out('');
      const run = await backend.run(executionArn);
      if (io.json) io.out(JSON.stringify(run, null, 2));
      else {
        io.out(
          `${run.status}: ${run.name}${run.partitions ? `, ${run.partitions.processed} partitions processed, ${run.partitions.failed} failed` : ''}`,
        );
        if (run.failure) io.out(`failure: ${run.failure.step}: ${run.failure.error}: ${run.failure.cause}`);
        if (run.cost) io.out(`cost: ${formatRunCost(run.cost)}`);
        for (const line of failedPartitionLines(run)) io.out(line);
        if (run.failure && run.rerunInput) io.out(`re-run only what failed: sluice rerun ${run.name}`);
      }
      return run.status === 'SUCCEEDED' ? 0 : 1;
    }
    if (detached) {
      if (io.redraw && !io.json) io.out('');
      io.out(`detached; the run goes on: ${executionArn}`);
      return 0;
    }
    await Promise.race([io.sleep(intervalMs), detach]);
  }
}

/** One line per failed partition the run lists, with its reason (at most the summary's 50, then a count). */
export function failedPartitionLines(run: Pick<RunRecord, 'failedPartitions' | 'partitions'>): string[] {
  const listed = run.failedPartitions ?? [];
  if (listed.length === 0) return [];
  const lines = listed.map((f) => `  ${f.partition}  ${f.state}${f.message ? `: ${f.message}` : ''}`);
  const more = (run.partitions?.failed ?? listed.length) - listed.length;
  return [`failed partitions:`, ...lines, ...(more > 0 ? [`  ... and ${more} more`] : [])];
}

export interface BackfillArgs {
  dataset: string;
  from: string;
  to: string;
  skipCrawler: boolean;
  wait: boolean;
  intervalMs: number;
}

export async function backfillCommand(
  backend: StageBackend,
  config: ResolvedConfig,
  io: Io,
  args: BackfillArgs,
): Promise<number> {
  const dataset = datasetNamed(config, args.dataset);
  const from = parsePartitionArg(dataset, args.from, '--from');
  const to = parsePartitionArg(dataset, args.to, '--to');
  const plan = backfillInput(dataset, from, to, args.skipCrawler);
  const arn = await backend.start(plan.input, 'backfill');
  const note = plan.expandedClientSide ? RANGE_NOTE : 'sent as a range input';
  if (io.json && !args.wait) {
    io.out(JSON.stringify({ executionArn: arn, partitions: plan.partitions, note }, null, 2));
    return 0;
  }
  if (!io.json) {
    io.out(
      `backfill ${dataset.name}: ${plural(plan.partitions, 'partition')}, ${partitionKey(dataset, from)} .. ${partitionKey(dataset, to)}` +
        (args.skipCrawler ? ', crawler skipped' : ''),
    );
    io.out(`note: ${note}`);
    io.out(`started ${arn}`);
  }
  return args.wait ? follow(backend, io, arn, args.intervalMs) : 0;
}

export async function rerunCommand(
  backend: StageBackend,
  io: Io,
  executionArn: string,
  wait: boolean,
  intervalMs: number,
): Promise<number> {
  const run = await backend.run(executionArn);
  if (run.status === 'RUNNING')
    throw new OperateError(`${run.name} is still running; rerun takes a run that has ended`);
  if (run.status === 'SUCCEEDED') throw new OperateError(`${run.name} succeeded; there is nothing to re-run`);
  if (!run.rerunInput)
    throw new OperateError(
      `${run.name} ended ${run.status} without a stored re-run input (${
        run.failure ? `${run.failure.step}: ${run.failure.error}` : 'no failure notification'
      }); its claimed arrivals went back to pending, and the next run or the catch-up schedule takes them`,
    );
  const input: ExecutionInput = run.rerunInput;
  const arn = await backend.start(input, 'rerun');
  if (!io.json) {
    const what =
      'partitions' in input
        ? plural(input.partitions.length, 'partition')
        : 'trigger' in input
          ? `pending arrivals (${input.trigger})`
          : 'range' in input
            ? `the range ${JSON.stringify(input.range)}`
            : `the partitions listed in ${input.manifest}`;
    io.out(`rerun of ${run.name} (${run.dataset}): ${what}`);
    io.out(`started ${arn}`);
  } else if (!wait) io.out(JSON.stringify({ executionArn: arn, input }, null, 2));
  return wait ? follow(backend, io, arn, intervalMs) : 0;
}

// ---------- logs ----------

export async function logsCommand(backend: StageBackend, io: Io, executionArn: string): Promise<number> {
  const lines = await backend.logs(executionArn);
  if (io.json) {
    io.out(JSON.stringify(lines, null, 2));
    return 0;
  }
  if (lines.length === 0) io.out(`no log lines carry ${executionArn}`);
  for (const l of lines) {
    if (typeof l.message === 'string') {
      io.out(`${l.timestamp}  ${l.source}  ${l.message}`);
      continue;
    }
    const { level, message, step, partition, timestamp: _t, executionArn: _e, service: _s, ...rest } = l.message;
    const extra = Object.keys(rest).length > 0 ? `  ${JSON.stringify(rest)}` : '';
    io.out(
      `${l.timestamp}  ${String(level ?? '').padEnd(5)}  ${String(step ?? l.source)}${partition ? ` [${String(partition)}]` : ''}  ${String(message ?? '')}${extra}`,
    );
  }
  return 0;
}
