/**
 * The local lake's run history: every finished run is appended to `<lake>/history/runs.jsonl` (one RunRecord a
 * line, read the same way as a Step Functions execution history, adapters/operate/run-state.ts), with its state
 * transitions in `<lake>/history/<execution>.jsonl` for `sluice logs`. `LocalStage` answers the operate commands
 * (status, runs, backfill, rerun, logs) over it, so the local CLI shows the same numbers as a deployed stage.
 */
import { schemaDriftNotes } from '../domain/steps';
import type { FingerprintRecord } from '../domain/drift';
import { FileFingerprints, FINGERPRINTS_FILE } from '../adapters/local/schema-drift';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type ResolvedConfig, executionNameFor } from '../domain/config';
import type { MetricPoint } from '../domain/metrics';
import type { ExecutionInput, JobRunResult } from '../schemas/types.generated';
import {
  OperateError,
  type DatasetStatus,
  type ExecutionProgress,
  type LogLine,
  type MapProgress,
  type RunQuery,
  type RunRecord,
  type StageBackend,
} from '../adapters/operate/ports';
import { modelledCostOfEvents } from '../adapters/operate/run-cost';
import { STATES, viewOfExits } from '../adapters/operate/run-state';
import type { LocalEvent, LocalRunResult } from './state-machine';

export interface HistoryEntry extends RunRecord {
  newestQueryableArrivalAt?: string;
}

const historyDir = (lakeDir: string): string => join(lakeDir, 'history');
const liveDir = (lakeDir: string): string => join(historyDir(lakeDir), 'live');
const nameOf = (arn: string): string => arn.split(':').pop() ?? arn;
const safeFile = (name: string): string => name.replace(/[^A-Za-z0-9_.-]/g, '_');

/** One run the local runtime finished (its history entry's source). */
export interface FinishedRun {
  executionArn: string;
  input: ExecutionInput;
  result: LocalRunResult;
  seconds: number;
  /** What the cores recorded through deps.metrics while it ran (the rows of its job runs). */
  metrics?: MetricPoint[];
}

/** What the local stage needs of the runtime (runtime/runtime.ts LocalRuntime), so neither imports the other. */
export interface RuntimeHandle {
  readonly runs: readonly FinishedRun[];
  startExecution(name: string, input: ExecutionInput): Promise<string>;
  idle(): Promise<void>;
  close(): void;
}

/** What one finished local run says about itself: the same fields `runs` shows for a deployed stage. */
export function entryOf(run: FinishedRun, stoppedAt: Date = new Date()): HistoryEntry {
  const exits = run.result.events.flatMap((e) =>
    e.type === 'StateExited' && e.state ? [{ name: e.state.name, output: e.state.output }] : [],
  );
  const view = viewOfExits(exits);
  const entry: HistoryEntry = {
    executionArn: run.executionArn,
    name: nameOf(run.executionArn),
    dataset: run.input.dataset,
    status: run.result.status,
    startedAt: new Date(stoppedAt.getTime() - run.seconds * 1000).toISOString(),
    stoppedAt: stoppedAt.toISOString(),
  };
  if (view.summary) entry.partitions = view.summary;
  if (view.failedPartitions?.length) entry.failedPartitions = view.failedPartitions;
  if (view.notification) {
    entry.failure = view.notification.failure;
    entry.rerunInput = view.notification.rerunInput;
  } else if (run.result.status === 'FAILED') {
    entry.failure = { step: '(execution)', error: run.result.error ?? 'FAILED', cause: run.result.cause ?? '' };
    entry.rerunInput = null;
  }
  if (view.newestQueryableArrivalAt) entry.newestQueryableArrivalAt = view.newestQueryableArrivalAt;
  const rows = rowsOf(run.metrics ?? []);
  if (rows) entry.rows = rows;
  entry.cost = modelledCostOfEvents(run.result.events);
  return entry;
}

/** The run's RowsIn/RowsOut/RowsBad metric points, summed (undefined when no job run reported rows). */
export function rowsOf(points: MetricPoint[]): { in: number; out: number; bad: number } | undefined {
  const rows = points.filter((p) => p.name === 'RowsIn' || p.name === 'RowsOut' || p.name === 'RowsBad');
  if (rows.length === 0) return undefined;
  const sum = (name: MetricPoint['name']) => rows.filter((p) => p.name === name).reduce((t, p) => t + p.value, 0);
  return { in: sum('RowsIn'), out: sum('RowsOut'), bad: sum('RowsBad') };
}

const LOGGED_STATE_TYPES = new Set(['Task', 'Map', 'Fail', 'Succeed']);

const partitionText = (partition: Record<string, string>): string =>
  Object.entries(partition)
    .map(([k, v]) => `${k}=${v}`)
    .join('/');

/** A job run's result as a Map child's state output carries it (domain/steps/jobs.ts). */
type JobResultOutput = Pick<JobRunResult, 'state' | 'message' | 'rows' | 'batch'>;

/**
 * The per-partition results of a batch job run: the check step writes them beside the batch file
 * (`<n>.partitions.json`, batchResultsLocation), in the artifacts bucket, a folder of the lake. Undefined when the
 * file cannot be read (a lake copied without its artifacts): the batch's own line still says how many failed.
 */
function batchResultsIn(lakeDir: string, results: { bucket: string; key: string }): JobRunResult[] | undefined {
  try {
    return JSON.parse(readFileSync(join(lakeDir, results.bucket, results.key), 'utf8')) as JobRunResult[];
  } catch {
    return undefined;
  }
}

/**
 * The run's step lines: Task/Map states entered and exited, failures, and each partition job's result. A job run
 * of one partition is one line that names it (jobState, jobMessage, jobRows). A batch job run (docs/batches.md) is
 * its line, naming the batch and its counts, followed by one line per partition of it, read from its results, in
 * the same form as a single run's: its state is the partition's outcome, not the run's (a batch run SUCCEEDS with
 * failed partitions), and a failure is the partition's own message.
 */
function logLinesOf(run: FinishedRun, lakeDir: string): LogLine[] {
  return run.result.events
    .filter((e) =>
      e.state ? LOGGED_STATE_TYPES.has(e.state.type) : e.type.startsWith('Execution') || /Failed/.test(e.type),
    )
    .flatMap((e) => {
      const input = (e.state?.input ?? {}) as {
        partition?: Record<string, string>;
        batch?: { index?: number; count?: number };
      };
      const output = (e.state?.output ?? {}) as { job?: { result?: JobResultOutput } };
      const failed = /Failed|Aborted|TimedOut/.test(e.type);
      const timestamp = new Date(e.timestamp).toISOString();
      const step = e.state?.name ?? (e.parentState?.name || 'execution');
      const message: Record<string, unknown> = {
        level: failed ? 'ERROR' : 'INFO',
        message: e.type,
        step,
        executionArn: run.executionArn,
      };
      const result = e.type === 'StateExited' ? output.job?.result : undefined;
      const batch = result?.batch;
      // A batch's Map child names its first partition (for AWS's console); its lines name the batch instead.
      const ofBatch =
        batch ?? (input.batch?.index !== undefined && (input.batch.count ?? 1) > 1 ? input.batch : undefined);
      if (ofBatch) message.batch = `job run ${(ofBatch.index ?? 0) + 1}, ${ofBatch.count ?? '?'} partitions`;
      else if (input.partition) message.partition = partitionText(input.partition);
      if (result?.state) message.jobState = result.state;
      if (batch) message.partitions = { succeeded: batch.succeededCount, failed: batch.failedCount };
      else {
        if (result?.message) message.jobMessage = result.message;
        if (result?.rows) message.jobRows = result.rows;
      }
      if (e.Error) message.error = e.Error;
      if (e.Cause) message.cause = e.Cause;
      const line: LogLine = { timestamp, source: 'local', message };
      if (!batch) return [line];
      const partitions = (batchResultsIn(lakeDir, batch.results) ?? []).map((r): LogLine => ({
        timestamp,
        source: 'local',
        message: {
          level: r.ok ? 'INFO' : 'ERROR',
          message: 'PartitionResult',
          step,
          executionArn: run.executionArn,
          partition: partitionText(r.partition),
          jobState: r.state,
          ...(r.message ? { jobMessage: r.message } : {}),
          ...(r.rows ? { jobRows: r.rows } : {}),
        },
      }));
      return [line, ...partitions];
    });
}

/** The runtime's hook (runtime/runtime.ts): called once per finished run. */
export function appendRunHistory(lakeDir: string, run: FinishedRun): void {
  const dir = historyDir(lakeDir);
  mkdirSync(dir, { recursive: true });
  const entry = entryOf(run);
  appendFileSync(join(dir, 'runs.jsonl'), JSON.stringify(entry) + '\n');
  writeFileSync(
    join(dir, `${safeFile(entry.name)}.jsonl`),
    logLinesOf(run, lakeDir)
      .map((l) => JSON.stringify(l))
      .join('\n') + '\n',
  );
}

export function readRunHistory(lakeDir: string): HistoryEntry[] {
  const file = join(historyDir(lakeDir), 'runs.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as HistoryEntry);
}

function withoutFreshness(entry: HistoryEntry): RunRecord {
  const { newestQueryableArrivalAt: _n, ...run } = entry;
  return run;
}

/**
 * The Map's items when it starts, from its state input: one item per job run, as the plan lists them
 * (`plan.items.count`, docs/batches.md); `unit` says whether an item is a partition or a job run of several (a
 * batched plan). Older states read the claimed list (`debounce.items.count`) or carried it (`partitions`).
 */
export function mapItemsOf(input: unknown): { total: number; unit: 'partitions' | 'job runs' } {
  const state = (input ?? {}) as {
    plan?: { items?: { count?: number }; partitions?: number; jobRuns?: number };
    partitions?: unknown[];
    debounce?: { items?: { count?: number } };
  };
  const planned = state.plan?.items?.count;
  if (typeof planned === 'number') {
    const batched = (state.plan?.jobRuns ?? planned) < (state.plan?.partitions ?? planned);
    return { total: planned, unit: batched ? 'job runs' : 'partitions' };
  }
  return { total: state.partitions?.length ?? state.debounce?.items?.count ?? 0, unit: 'partitions' };
}

/**
 * A run in flight, as a file (`<lake>/history/live/<execution>.json`) that the runtime keeps while the run goes on
 * and removes when it ends (issue 25): `status` and `runs` in another terminal show it, during a `watch` debounce or
 * a detached `backfill`. It names the process, so a file left by a process that died is not shown as running.
 */
export interface LiveRunRecord {
  executionArn: string;
  name: string;
  dataset: string;
  startedAt: string;
  pid: number;
  step: string;
  map?: { total: number; done: number; failed: number; unit?: 'partitions' | 'job runs' };
}

/** The step of a run whose first state has not begun yet. */
const LIVE_STARTING = 'starting';

/** How often a Map's item counts are written at most: a run of many partitions writes a few times a second. */
const LIVE_MAP_WRITE_MS = 250;

export class LiveRunFile {
  private readonly file: string;
  private readonly record: LiveRunRecord;
  private lastMapWrite = 0;

  constructor(lakeDir: string, executionArn: string, dataset: string, startedAt: Date) {
    this.file = join(liveDir(lakeDir), `${safeFile(nameOf(executionArn))}.json`);
    this.record = {
      executionArn,
      name: nameOf(executionArn),
      dataset,
      startedAt: startedAt.toISOString(),
      pid: process.pid,
      step: LIVE_STARTING,
    };
    mkdirSync(liveDir(lakeDir), { recursive: true });
    this.write();
  }

  /** Top-level states entered, and the Map's item counts. */
  observe(event: LocalEvent): void {
    if (event.type === 'StateEntered' && event.index === undefined && event.state) {
      if (event.state.type === 'Choice' || event.state.type === 'Pass') return;
      this.record.step = event.state.name;
      if (event.state.name === STATES.mapState) {
        const items = mapItemsOf(event.state.input);
        this.record.map = { total: items.total, done: 0, failed: 0, unit: items.unit };
      }
      this.write();
    } else if (this.record.map && (event.type === 'MapIterationSucceeded' || event.type === 'MapIterationFailed')) {
      this.record.map.done += 1;
      if (event.type === 'MapIterationFailed') this.record.map.failed += 1;
      const now = Date.now();
      if (now - this.lastMapWrite >= LIVE_MAP_WRITE_MS) {
        this.lastMapWrite = now;
        this.write();
      }
    }
  }

  private write(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.record));
    renameSync(tmp, this.file);
  }

  remove(): void {
    rmSync(this.file, { force: true });
  }
}

const processIsAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Runs in flight in any process on this lake, newest first; files of processes that died are skipped. */
export function readLiveRuns(lakeDir: string): LiveRunRecord[] {
  let names: string[];
  try {
    names = readdirSync(liveDir(lakeDir)).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names
    .flatMap((n) => {
      try {
        return [JSON.parse(readFileSync(join(liveDir(lakeDir), n), 'utf8')) as LiveRunRecord];
      } catch {
        return []; // removed between the listing and the read: the run has just ended
      }
    })
    .filter((r) => processIsAlive(r.pid))
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** A run in flight as the operate commands show runs. */
export function recordOfLive(live: LiveRunRecord): RunRecord {
  const step = live.map
    ? `${live.step}: ${live.map.done}/${live.map.total} ${live.map.unit ?? 'partitions'}${live.map.failed ? `, ${live.map.failed} failed` : ''}`
    : live.step;
  return {
    executionArn: live.executionArn,
    name: live.name,
    dataset: live.dataset,
    status: 'RUNNING',
    startedAt: live.startedAt,
    step,
  };
}

interface LiveRun {
  map: MapProgress | null;
}

export class LocalStage implements StageBackend {
  readonly label: string;
  private readonly live = new Map<string, LiveRun>();
  private runtime: RuntimeHandle | undefined;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly lakeDir: string,
    private readonly openRuntime: (onEvent: (arn: string, e: LocalEvent) => void) => Promise<RuntimeHandle>,
    lakeLabel = lakeDir,
  ) {
    this.label = `local lake ${lakeLabel}`;
  }

  private newestFirst(): HistoryEntry[] {
    return readRunHistory(this.lakeDir).reverse();
  }

  /** Runs in flight (any process on this lake) that the history does not have yet. */
  private liveRuns(history: HistoryEntry[]): RunRecord[] {
    const finished = new Set(history.map((r) => r.executionArn));
    return readLiveRuns(this.lakeDir)
      .filter((r) => !finished.has(r.executionArn))
      .map(recordOfLive);
  }

  async status(): Promise<DatasetStatus[]> {
    const history = this.newestFirst();
    const live = this.liveRuns(history);
    // Issue 24: the fingerprints the runs recorded (adapters/local/schema-drift.ts).
    const fingerprints = new FileFingerprints(join(this.lakeDir, FINGERPRINTS_FILE)).read();
    return this.config.datasets.map((d) => {
      const runs = history.filter((r) => r.dataset === d.name);
      const running = live.find((r) => r.dataset === d.name);
      return {
        dataset: d.name,
        // Leases and pending arrivals live in the memory of the process that runs (`run`, `watch`, `backfill`).
        // What it shows is its run in flight (history/live): the last run, RUNNING at its current step, and the
        // lease, which every run holds from its first step to its end (domain/steps/run.ts).
        lease:
          running && running.step !== LIVE_STARTING ? { holder: running.executionArn, since: running.startedAt } : null,
        pending: null,
        lastRun: running ?? (runs[0] ? withoutFreshness(runs[0]) : null),
        newestQueryableArrivalAt: runs.find((r) => r.newestQueryableArrivalAt)?.newestQueryableArrivalAt ?? null,
        ...schemaDriftOf(fingerprints[d.name]),
      };
    });
  }

  async runs(query: RunQuery): Promise<RunRecord[]> {
    const history = this.newestFirst();
    return [...this.liveRuns(history), ...history.map(withoutFreshness)]
      .filter((r) => (!query.dataset || r.dataset === query.dataset) && (!query.failedOnly || r.status !== 'SUCCEEDED'))
      .slice(0, query.limit);
  }

  async run(executionArn: string): Promise<RunRecord> {
    const found = this.newestFirst().find((r) => r.executionArn === executionArn || r.name === executionArn);
    if (found) return withoutFreshness(found);
    const live = [...this.live.keys()].find((arn) => arn === executionArn || nameOf(arn) === executionArn);
    if (live)
      return {
        executionArn: live,
        name: nameOf(live),
        dataset: '?',
        status: 'RUNNING',
        startedAt: new Date().toISOString(),
      };
    throw new OperateError(`no run ${executionArn} in the history of ${this.label}`);
  }

  /** Fed with the interpreter's events: the Map's item counts for the progress bar. */
  observe(arn: string, event: LocalEvent): void {
    const live = this.live.get(arn) ?? { map: null };
    this.live.set(arn, live);
    if (event.type === 'StateEntered' && event.index === undefined && event.state?.name === STATES.mapState) {
      // The Map reads its items (one per job run) from the plan's list (ItemReader, docs/batches.md).
      const items = mapItemsOf(event.state.input).total;
      live.map = { total: items, succeeded: 0, failed: 0, running: 0, pending: items };
    } else if (live.map && event.type === 'MapIterationStarted') {
      live.map.running += 1;
      live.map.pending = Math.max(0, live.map.pending - 1);
    } else if (live.map && (event.type === 'MapIterationSucceeded' || event.type === 'MapIterationFailed')) {
      if (event.type === 'MapIterationSucceeded') live.map.succeeded += 1;
      else live.map.failed += 1;
      live.map.running = Math.max(0, live.map.running - 1);
    }
  }

  private async ensureRuntime(): Promise<RuntimeHandle> {
    this.runtime ??= await this.openRuntime((arn, e) => this.observe(arn, e));
    return this.runtime;
  }

  async start(input: ExecutionInput, kind: 'backfill' | 'rerun'): Promise<string> {
    const runtime = await this.ensureRuntime();
    const arn = await runtime.startExecution(executionNameFor(input.dataset, new Date(), kind), input);
    this.live.set(arn, this.live.get(arn) ?? { map: null });
    return arn;
  }

  async progress(executionArn: string): Promise<ExecutionProgress> {
    const finished = this.runtime?.runs.find((r) => r.executionArn === executionArn);
    const map = this.live.get(executionArn)?.map ?? null;
    return { status: finished ? finished.result.status : 'RUNNING', map: map ? { ...map } : null };
  }

  async logs(executionArn: string): Promise<LogLine[]> {
    const run = await this.run(executionArn);
    const file = join(historyDir(this.lakeDir), `${safeFile(run.name)}.jsonl`);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as LogLine);
  }

  /** Lets a started local run finish (it runs in this process), then closes the engine. */
  async close(): Promise<void> {
    if (!this.runtime) return;
    await this.runtime.idle();
    this.runtime.close();
  }
}

/** The status field for a dataset's drifted fingerprints, or nothing when none drifted. */
function schemaDriftOf(records: Record<string, FingerprintRecord> | undefined): { schemaDrift?: string[] } {
  const notes = schemaDriftNotes(Object.values(records ?? {}));
  return notes.length > 0 ? { schemaDrift: notes } : {};
}
