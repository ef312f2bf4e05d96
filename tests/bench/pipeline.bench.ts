/**
 * `npm run bench [-- --sizes 1M/30,5M/30,1M/300,1M/1000,337k/365 --reps 5 --profile DIR]`
 *
 * sluice's local pipeline (landing -> queryable) against one direct DuckDB `COPY … PARTITION_BY` with the same
 * casts, on the same CSV files. For each size, `reps` interleaved pairs (the order alternates), each side in its
 * own child process so that its peak RSS (getrusage maxrss, from the start of its measured span) is its own. The
 * machine is shared: read the ratios within one run (min/median/max), not the seconds. Each pair's outputs are
 * compared: same rows (EXCEPT ALL both ways), same partition folders, same column types.
 *
 * The files land as a real burst does: all objects are written, then their events are delivered back to back,
 * and one debounced execution claims them all (the bench stops with an error if it took more than one). That is
 * what `sluice run --quiet-ms 0` does (cli/sluice.ts ingestAll), on the same runtime; the job runs are
 * whatever the flow starts (one per batch of partitions once the Map iterates batches, issue 23). The engine alone,
 * one batch run against one run per partition: tests/bench/local-batch.bench.ts.
 * The debounce quiet period is 0 here (a burst whose quiet period has already passed); waits between polls use
 * the local runtime's defaults.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const ROOT = join(__dirname, '..', '..');
const RESULT_TAG = 'BENCH_RESULT ';

interface Size {
  label: string;
  rows: number;
  partitions: number;
}

/** "1M/30" -> 1,000,000 rows over 30 partitions; "250k/10" works too. */
function parseSize(text: string): Size {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)\/(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`size '${text}' is not <rows>/<partitions>, e.g. 1M/30 or 200k/10`);
  const unit = { k: 1e3, m: 1e6, '': 1 }[(match[2] ?? '').toLowerCase()] ?? 1;
  const rows = Math.round(Number(match[1]) * unit);
  const partitions = Number(match[3]);
  if (partitions < 1 || partitions > 3000 || rows < partitions)
    throw new Error(`size '${text}': need 1..3000 partitions and at least one row per partition`);
  // The unit as written: `337k/365` is reported as `size: 337k/365`, `1M/30` as `size: 1M/30`.
  return { label: `${match[1]}${match[2] ?? ''}/${partitions}`, rows, partitions };
}

/** Partition p is day p after 2024-01-01, so any count up to a few years is a valid year/month/day layout. */
function dayOf(p: number): { year: string; month: string; day: string } {
  const d = new Date(Date.UTC(2024, 0, 1) + p * 86_400_000);
  return {
    year: String(d.getUTCFullYear()),
    month: String(d.getUTCMonth() + 1).padStart(2, '0'),
    day: String(d.getUTCDate()).padStart(2, '0'),
  };
}

const rawKeyOf = (p: number): string => {
  const { year, month, day } = dayOf(p);
  return `orders/year=${year}/month=${month}/day=${day}/data.csv`;
};

function generate(rawDir: string, size: Size): void {
  const per = Math.ceil(size.rows / size.partitions);
  for (let p = 0; p < size.partitions; p++) {
    const rows = Math.max(0, Math.min(per, size.rows - per * p));
    const { year, month, day } = dayOf(p);
    const file = join(rawDir, rawKeyOf(p));
    mkdirSync(join(file, '..'), { recursive: true });
    const lines = ['order_id,customer,amount,ordered_at'];
    for (let i = 0; i < rows; i++) {
      const id = p * per + i;
      lines.push(
        `${id},cust-${id % 997},${((id * 7919) % 100000) / 100},${year}-${month}-${day} ${String(i % 24).padStart(2, '0')}:00:00`,
      );
    }
    writeFileSync(file, lines.join('\n') + '\n');
  }
}

/** The target columns and casts of config/local.json's orders dataset, in DuckDB terms. */
interface Mapping {
  source: string;
  target: string;
  type: string;
}

function benchConfig(dir: string): { file: string; mapping: Mapping[] } {
  const local = JSON.parse(readFileSync(join(ROOT, 'config', 'local.json'), 'utf8')) as {
    datasets: Array<{ name: string; debounce: { quietSeconds: number }; mapping: Mapping[] }>;
  };
  for (const d of local.datasets) d.debounce.quietSeconds = 0;
  const file = join(dir, 'bench-config.json');
  writeFileSync(file, JSON.stringify(local));
  const orders = local.datasets.find((d) => d.name === 'orders');
  if (!orders) throw new Error('config/local.json has no orders dataset');
  return { file, mapping: orders.mapping };
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes: one side each, reporting one JSON line.

interface SideResult {
  seconds: number;
  /** CPU seconds (user + system, every thread of the process) over the same span: steadier than wall time on a loaded machine. */
  cpuSeconds: number;
  threadCpu?: ThreadCpu;
  maxRssMiB: number;
  executions?: number;
  claimed?: number[];
  states?: Record<string, number>;
  nestedStates?: Record<string, number>;
  landingMs?: number;
  jobSecondsSum?: number;
  jobSecondsMedian?: number;
  /** Glue job runs started (one per partition, or one per batch of partitions). */
  jobRuns?: number;
  rowsQueryable?: number;
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1e6;
}

/** CPU seconds per kind of thread (Linux /proc; empty elsewhere): Node's own thread, libuv's pool, V8's helpers. */
type ThreadCpu = Record<'node' | 'pool' | 'v8', number>;

function threadCpu(): ThreadCpu | undefined {
  const tasks = '/proc/self/task';
  if (!existsSync(tasks)) return undefined;
  const cpu: ThreadCpu = { node: 0, pool: 0, v8: 0 };
  for (const tid of readdirSync(tasks)) {
    let stat: string;
    try {
      stat = readFileSync(`${tasks}/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const [utime, stime] = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .slice(11, 13)
      .map(Number);
    // DuckDB's statements run on libuv's pool threads, and its own threads inherit their name.
    const kind = tid === String(process.pid) ? 'node' : name.startsWith('libuv-worker') ? 'pool' : 'v8';
    cpu[kind] += ((utime ?? 0) + (stime ?? 0)) / 100; // clock ticks, USER_HZ = 100
  }
  return cpu;
}

/** " (node thread 3.2, pool 7.1, V8 helpers 0.9)": where a side's CPU went. */
function threadSplit(cpu: ThreadCpu | undefined): string {
  return cpu ? ` (sluice: node thread ${fmt(cpu.node)}, pool ${fmt(cpu.pool)}, V8 helpers ${fmt(cpu.v8)})` : '';
}

/**
 * Starts the peak RSS (getrusage's maxrss, /proc's VmHWM) afresh at the start of the measured span, on Linux (writing
 * 5 to /proc/self/clear_refs, proc(5)), so that loading the bench's modules through tsx is not counted on either side.
 * Short peaks of 300-450 MiB still come and go in some child processes of both sides (the median absorbs them).
 */
function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Elsewhere the peak covers the whole process, module loading included.
  }
}

function threadCpuSince(start: ThreadCpu | undefined): ThreadCpu | undefined {
  const now = threadCpu();
  return start && now ? { node: now.node - start.node, pool: now.pool - start.pool, v8: now.v8 - start.v8 } : undefined;
}

/** Local runtime settings to explore (`--poll-ms`, `--connections`); unset means the runtime's defaults. */
interface Knobs {
  pollMs?: number;
  connections?: number;
}

async function childSluice(dataDir: string, lakeDir: string, configFile: string, knobs: Knobs): Promise<SideResult> {
  const { LocalRuntime } = await import('../../runtime/runtime');
  mkdirSync(lakeDir, { recursive: true });
  // The raw bucket is the generated data (shared by every repetition, never written by sluice).
  symlinkSync(join(dataDir, 'raw'), join(lakeDir, 'raw'), 'dir');
  const keys = readdirSync(join(dataDir, 'raw'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.csv'))
    .sort();
  // Wall time of each top-level state, per execution (an execution's state lasts until its next state begins).
  const states: Record<string, number> = {};
  const nestedStates: Record<string, number> = {};
  const current = new Map<string, { name: string; at: number }>();
  const close = (arn: string, now: number) => {
    const open = current.get(arn);
    if (open && open.name !== '(ended)') states[open.name] = (states[open.name] ?? 0) + now - open.at;
  };
  let lastEnd = 0;
  resetPeakRss();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const threads0 = threadCpu();
  const runtime = await LocalRuntime.open({
    lakeDir,
    configFile,
    quietMs: 0,
    ...knobs,
    onEvent: (arn, event) => {
      const now = performance.now();
      // From the end of the landing (or the previous execution's end) to this execution's first state: the
      // definition's load and validation and the start of the interpreter.
      if (!current.has(arn)) current.set(arn, { name: '(execution start, before its first state)', at: lastEnd });
      if (event.type === 'StateEntered' && event.state) {
        if (event.index !== undefined) {
          nestedStates[event.state.name] = (nestedStates[event.state.name] ?? 0) + 1;
          return;
        }
        close(arn, now);
        current.set(arn, { name: event.state.name, at: now });
      } else if (
        (event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed') &&
        event.index === undefined
      ) {
        close(arn, now);
        current.set(arn, { name: '(ended)', at: now });
        lastEnd = now;
      }
    },
  });
  states['(open the local runtime)'] = performance.now() - t0;
  const tLanding = performance.now();
  // A burst: every object is there, S3 sends one event each, back to back; the intake takes them in batches.
  const events = keys.map((key) => runtime.lake.eventFor(key));
  await runtime.deliverAll(events);
  const landingMs = performance.now() - tLanding;
  lastEnd = performance.now();
  await runtime.idle();
  const tQuery = performance.now();
  const [count] = await runtime.queries.query('SELECT count(*) AS n FROM orders');
  states['(first query)'] = performance.now() - tQuery;
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  const threadSeconds = threadCpuSince(threads0);
  const jobSeconds = runtime.jobs
    .allStats()
    .map((j) => j.stats?.seconds ?? 0)
    .sort((a, b) => a - b);
  const failed = runtime.runs.filter((r) => r.result.status !== 'SUCCEEDED');
  const claimed = runtime.runs.map((r) => {
    const exit = r.result.events.find(
      (e) => e.type === 'StateExited' && e.state?.name === 'Claim the settled arrivals',
    );
    return Number((exit?.state?.output as { debounce?: { partitionCount?: number } })?.debounce?.partitionCount ?? 0);
  });
  runtime.close();
  if (failed.length > 0) throw new Error(`sluice: ${failed.length} execution(s) failed: ${failed[0]?.result.cause}`);
  return {
    seconds,
    cpuSeconds,
    threadCpu: threadSeconds,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    executions: runtime.runs.length,
    claimed,
    states,
    nestedStates,
    landingMs,
    jobSecondsSum: jobSeconds.reduce((a, b) => a + b, 0),
    jobRuns: jobSeconds.length,
    jobSecondsMedian: jobSeconds[Math.floor(jobSeconds.length / 2)] ?? 0,
    rowsQueryable: Number(count?.n),
  };
}

async function childDirect(dataDir: string, outDir: string, mapping: Mapping[]): Promise<SideResult> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  // The same casts as the local job: the cast contract's DuckDB rendering, one definition for both sides.
  const { duckdbCast } = await import('../../domain/rows/cast-contract');
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const id = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const casts = mapping.map((m) => `${duckdbCast(m.type, id(m.source))} AS ${id(m.target)}`);
  resetPeakRss();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const threads0 = threadCpu();
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  await db.run(
    `COPY (SELECT ${casts.join(', ')}, year, month, day
       FROM read_csv(${q(join(dataDir, 'raw/orders/*/*/*/*.csv'))}, header = true, all_varchar = true,
                     hive_partitioning = true, hive_types_autocast = false))
     TO ${q(outDir)} (FORMAT parquet, PARTITION_BY (year, month, day))`,
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  const threadSeconds = threadCpuSince(threads0);
  db.closeSync();
  return { seconds, cpuSeconds, threadCpu: threadSeconds, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}

async function child(argv: string[]): Promise<void> {
  const [side, dataDir, outDir, configFile, json] = argv;
  if (!side || !dataDir || !outDir || !configFile || !json) throw new Error('child: missing arguments');
  const { mapping, knobs } = JSON.parse(json) as { mapping: Mapping[]; knobs: Knobs };
  const result =
    side === 'sluice'
      ? await childSluice(dataDir, outDir, configFile, knobs)
      : await childDirect(dataDir, outDir, mapping);
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(result)}\n`);
}

/**
 * Flushes what the previous side wrote and removed before the next side starts. Without it, the side that went first
 * in a pair paid for the kernel's writeback of the previous pair's thousands of files and folders: at 1,000
 * partitions both sides ran 10-30% slower when first, and an odd number of pairs gave one order the median.
 */
function settleFileSystem(): void {
  spawnSync('sync', { stdio: 'ignore' });
}

function runChild(args: string[], profileDir?: string): Promise<SideResult> {
  const nodeArgs = [
    ...process.execArgv,
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
    __filename,
    '--child',
    ...args,
  ];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_TAG));
      if (code !== 0 || !line) reject(new Error(`bench child ${args[0]} exited ${code}:\n${stderr || stdout}`));
      else resolve(JSON.parse(line.slice(RESULT_TAG.length)) as SideResult);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Output comparison.

function partitionFolders(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => relative(dir, join(dir, f, '..')))
    .filter((f, i, all) => all.indexOf(f) === i)
    .sort();
}

async function compareOutputs(sluiceDir: string, directDir: string, mapping: Mapping[]): Promise<string[]> {
  const problems: string[] = [];
  const a = partitionFolders(sluiceDir);
  const b = partitionFolders(directDir);
  if (a.join('\n') !== b.join('\n'))
    problems.push(`partition folders differ: sluice ${a.length} (${a[0]}…), direct ${b.length} (${b[0]}…)`);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  const cols = [...mapping.map((m) => `"${m.target}"`), 'year', 'month', 'day'].join(', ');
  const reader = (dir: string) =>
    `read_parquet('${join(dir, '**', '*.parquet')}', hive_partitioning = true, hive_types_autocast = false)`;
  const rows = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJson();
  const types = async (dir: string) =>
    JSON.stringify(
      (await rows(`DESCRIBE SELECT ${cols} FROM ${reader(dir)}`)).map((r) => [r.column_name, r.column_type]),
    );
  const [ta, tb] = [await types(sluiceDir), await types(directDir)];
  if (ta !== tb) problems.push(`column types differ: sluice ${ta}, direct ${tb}`);
  const count = async (sql: string) => Number((await rows(sql))[0]?.n);
  const [na, nb] = [
    await count(`SELECT count(*) AS n FROM ${reader(sluiceDir)}`),
    await count(`SELECT count(*) AS n FROM ${reader(directDir)}`),
  ];
  if (na !== nb) problems.push(`row counts differ: sluice ${na}, direct ${nb}`);
  for (const [x, y, name] of [
    [sluiceDir, directDir, 'sluice EXCEPT ALL direct'],
    [directDir, sluiceDir, 'direct EXCEPT ALL sluice'],
  ] as const) {
    const n = await count(
      `SELECT count(*) AS n FROM (SELECT ${cols} FROM ${reader(x)} EXCEPT ALL SELECT ${cols} FROM ${reader(y)})`,
    );
    if (n !== 0) problems.push(`${name}: ${n} rows`);
  }
  db.closeSync();
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const fmt = (x: number, digits = 2) => x.toFixed(digits);

async function benchSize(size: Size, reps: number, root: string, knobs: Knobs, profileDir?: string): Promise<string> {
  const dir = join(root, size.label.replace('/', '-'));
  const dataDir = join(dir, 'data');
  const tGen = performance.now();
  generate(join(dataDir, 'raw'), size);
  const { file: configFile, mapping } = benchConfig(dir);
  console.log(
    `\n== ${size.label}: ${size.rows.toLocaleString('en')} CSV rows over ${size.partitions} partitions (generated in ${fmt((performance.now() - tGen) / 1000, 1)} s)`,
  );
  const ratios: number[] = [];
  const rssRatios: number[] = [];
  const cpuRatios: number[] = [];
  const sluiceRuns: SideResult[] = [];
  let identical = true;
  for (let rep = 0; rep < reps; rep++) {
    const lakeDir = join(dir, `lake-${rep}`);
    const directDir = join(dir, `direct-${rep}`);
    const args = (side: string, out: string) => [side, dataDir, out, configFile, JSON.stringify({ mapping, knobs })];
    // Interleaved: the side that goes first alternates, so drift in the machine's load hits both.
    const sluiceFirst = rep % 2 === 0;
    settleFileSystem();
    const first = await runChild(sluiceFirst ? args('sluice', lakeDir) : args('direct', directDir), profileDir);
    settleFileSystem();
    const second = await runChild(sluiceFirst ? args('direct', directDir) : args('sluice', lakeDir), profileDir);
    const [s, d] = sluiceFirst ? [first, second] : [second, first];
    if (s.rowsQueryable !== size.rows)
      throw new Error(`${size.label}: expected ${size.rows} rows queryable, got ${s.rowsQueryable}`);
    if (s.executions !== 1 || s.claimed?.[0] !== size.partitions)
      throw new Error(
        `${size.label}: the burst was not taken by one execution: ${s.executions} executions claimed ${JSON.stringify(s.claimed)}`,
      );
    const problems = await compareOutputs(join(lakeDir, 'curated', 'orders'), directDir, mapping);
    if (problems.length > 0) {
      identical = false;
      console.log(`   rep ${rep + 1}: OUTPUT DIFFERS: ${problems.join('; ')}`);
    }
    ratios.push(s.seconds / d.seconds);
    rssRatios.push(s.maxRssMiB / d.maxRssMiB);
    cpuRatios.push(s.cpuSeconds / d.cpuSeconds);
    sluiceRuns.push(s);
    console.log(
      `   rep ${rep + 1} (${sluiceFirst ? 'sluice first' : 'direct first'}): sluice ${fmt(s.seconds)} s, direct ${fmt(d.seconds)} s, ratio ${fmt(s.seconds / d.seconds)};` +
        ` cpu ${fmt(s.cpuSeconds)} / ${fmt(d.cpuSeconds)} s${threadSplit(s.threadCpu)};` +
        ` peak RSS ${fmt(s.maxRssMiB, 0)} / ${fmt(d.maxRssMiB, 0)} MiB; ${s.jobRuns ?? 0} job runs, sum ${fmt(s.jobSecondsSum ?? 0)} s, median ${fmt((s.jobSecondsMedian ?? 0) * 1000, 0)} ms`,
    );
    rmSync(lakeDir, { recursive: true, force: true });
    rmSync(directDir, { recursive: true, force: true });
  }
  console.log('   sluice, median ms per top-level state (summed over executions), landing = events + intake:');
  const stateNames = [...new Set(sluiceRuns.flatMap((r) => Object.keys(r.states ?? {})))];
  console.log(
    `     ${'landing (events + intake, overlaps the run)'.padEnd(52)} ${fmt(median(sluiceRuns.map((r) => r.landingMs ?? 0)), 0).padStart(7)}`,
  );
  for (const name of stateNames)
    console.log(`     ${name.padEnd(52)} ${fmt(median(sluiceRuns.map((r) => r.states?.[name] ?? 0)), 0).padStart(7)}`);
  const nested = [...new Set(sluiceRuns.flatMap((r) => Object.keys(r.nestedStates ?? {})))];
  console.log(
    `   per partition (median count): ${nested.map((n) => `${n} ${fmt(median(sluiceRuns.map((r) => r.nestedStates?.[n] ?? 0)) / size.partitions, 1)}`).join(', ')}`,
  );
  console.log(
    `   cpu-time ratio min/median/max: ${fmt(Math.min(...cpuRatios))}/${fmt(median(cpuRatios))}/${fmt(Math.max(...cpuRatios))} (all threads; steadier than wall time when the machine is shared)`,
  );
  rmSync(dir, { recursive: true, force: true });
  return `size: ${size.label}  ratio min/median/max: ${fmt(Math.min(...ratios))}/${fmt(median(ratios))}/${fmt(Math.max(...ratios))}  identical output: ${identical ? 'yes' : 'NO'}  peak rss ratio: ${fmt(median(rssRatios), 1)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      // 337k/365: a year of one small file a day (~900 rows each), issue 25's many-small-partitions case.
      sizes: { type: 'string', default: '1M/30,5M/30,1M/300,1M/1000,337k/365' },
      reps: { type: 'string', default: '5' },
      profile: { type: 'string' },
      'poll-ms': { type: 'string' },
      connections: { type: 'string' },
    },
  });
  const sizes = (values.sizes ?? '').split(',').map(parseSize);
  const reps = Number(values.reps);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a positive integer, got ${values.reps}`);
  const knobs: Knobs = {
    ...(values['poll-ms'] ? { pollMs: Number(values['poll-ms']) } : {}),
    ...(values.connections ? { connections: Number(values.connections) } : {}),
  };
  const profileDir = values.profile ? join(process.cwd(), values.profile) : undefined;
  if (profileDir && !existsSync(profileDir)) mkdirSync(profileDir, { recursive: true });
  const root = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  console.log(
    `sluice local pipeline bench: ${reps} interleaved pairs per size, each side in its own process; debounce quiet period 0 (bench setting)` +
      (Object.keys(knobs).length ? `; runtime settings ${JSON.stringify(knobs)}` : ''),
  );
  const lines: string[] = [];
  try {
    for (const size of sizes) lines.push(await benchSize(size, reps, root, knobs, profileDir));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  console.log('');
  for (const line of lines) console.log(line);
}

const childAt = process.argv.indexOf('--child');
(childAt >= 0 ? child(process.argv.slice(childAt + 1)) : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
