#!/usr/bin/env node
/**
 * sluice on a laptop: `npm start` (= `sluice demo`), `sluice run`, `sluice watch`, `sluice query`, `sluice rerun`;
 * and the operate commands (`status`, `runs`, `backfill`, `rerun <execution>`, `logs`) on the local lake's run
 * history or, with `--stage <name>`, on the deployed stack `sluice-<name>` (adapters/operate/).
 */
import { PROJECT_ROOT } from '../runtime/project-root';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, watch } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile, type ResolvedConfig } from '../domain/config';
import { formatRunCost } from '../domain/cost';
import type { ExecutionInput } from '../schemas/types.generated';
import { AwsStage } from '../adapters/operate/aws-stage';
import {
  backfillCommand,
  failedPartitionLines,
  logsCommand,
  RANGE_HELP,
  rerunCommand,
  runsCommand,
  statusCommand,
  type Io,
} from '../adapters/operate/commands';
import { FakeStage } from '../adapters/operate/fake-stage';
import { OperateError, type StageBackend } from '../adapters/operate/ports';
import { STATES } from '../adapters/operate/run-state';
import { datasetOfExecution, displayPath, jsonRows, localPaths, nodeVersionProblem } from './format';
import { installCompiledValidators } from '../adapters/local/compiled-validators';
import { sampleFiles, SAMPLE_QUERY } from '../adapters/local/demo-data';
import { entryOf, LocalStage, mapItemsOf, rowsOf } from '../runtime/history';
import { partitionJobStats } from '../adapters/local/job-stats';
import { LocalRuntime, type FinishedRun } from '../runtime/runtime';
import type { LocalEvent } from '../runtime/state-machine';

const ROOT = PROJECT_ROOT;
const HELP: Record<string, string> = {
  main: `sluice: the data-lake pipeline on this machine (no AWS account needed)

Usage: sluice <command> [options]    (npm start = sluice demo)

Commands:
  demo      fresh demo lake, sample data landed, pipeline run, summary and a sample query
  run       take in every new file of the raw zone and run the pipeline until idle
  watch     watch the raw zone; each burst of files triggers one debounced run
  query     run SQL over the registered partitions of the target tables

Operate (the local lake's run history, or a deployed stage with --stage NAME):
  status    per dataset: freshness, lease holder, pending partitions, last run
  runs      recent runs with partitions processed/failed and the failure reason
  backfill  one run over a partition range, with live progress (Ctrl-C detaches)
  rerun     a new run with the stored re-run input of a failed one (or a manual run from JSON)
  logs      the step log lines of one run, in order

Common options:
  --stage NAME    the deployed stack sluice-NAME, in the region of config/NAME.json; AWS credentials
                  from the usual chain (AWS_PROFILE, SSO, environment, instance role); nothing is asked for
  --lake DIR      local lake folder (default .sluice/lake; demo: .sluice/demo). It must exist (hold the raw
                  bucket's folder), except for demo and watch, which create it
  --quiet-ms N    local runs: how long a run waits for more files before it claims what has landed (the ASL's
                  "Wait for arrivals to settle"; default 1000; a deployed stage uses the dataset's
                  debounce.quietSeconds)
  --poll-ms N     local runs: how often a job run's status is polled (default 50)
  --config FILE   stage config (default config/local.json, or config/NAME.json with --stage)
  --json          machine-readable output
  --verbose       step logs (Powertools JSON) on stdout
  -h, --help      help for a command`,
  demo: `sluice demo [--lake DIR] [--json]\n  Deletes and recreates the demo lake, lands the bundled sample data (two datasets, one file with\n  uncastable rows, one file outside the layout), runs the pipeline, prints a summary and a query.`,
  run: `sluice run [--lake DIR] [--json] [--quiet-ms N]
  Delivers an Object Created event for every file in the raw zone (already-seen files are duplicates
  and add nothing), then waits until every run has ended. Exit code 1 when a run failed; its failure
  notification names the failed partitions, and sluice rerun <execution> re-runs exactly those.
  --quiet-ms N  how long a run waits, after the last file landed, before it claims the files (the
                debounce; default 1000). Files landing in that time join the same run.`,
  watch: `sluice watch [--lake DIR] [--quiet-ms N]
  Watches <lake>/<raw bucket>/ (created when missing) and delivers an event per new file; each burst of
  files becomes one run once no file has landed for --quiet-ms (default 1000). Ctrl-C to stop.
  In another terminal, sluice status / sluice runs show the run in flight.`,
  query: `sluice query "<SQL>" [--lake DIR] [--json]
  Example: sluice query "SELECT count(*) FROM orders"
  --json: one object per row. Integers and DECIMALs are JSON numbers when the number's JSON text is exactly
  the value (integers up to 2^53-1 in magnitude; a DECIMAL such as 12.50 as 12.5); otherwise, e.g. a BIGINT
  of 2^53+1, a JSON string with every digit. Dates and timestamps are strings.`,
  rerun: `sluice rerun <execution> [--stage NAME | --lake DIR] [--json] [--no-wait]
  Starts a new run with the re-run input that the failure notification of <execution> (its name or ARN) stored:
  exactly the partitions that failed. Refused for runs that succeeded, are running, or stored none.
  Then follows it like backfill.
sluice rerun '<input JSON>' [--lake DIR] [--json]
  A manual run on the local lake, with the same JSON as in the Step Functions console.
  Example: sluice rerun '{"dataset":"orders","partitions":[{"year":"2024","month":"01","day":"03"}],"skipCrawler":true}'`,
  status: `sluice status [--stage NAME | --lake DIR] [--json]
  Per dataset: fresh (time since the newest arrival that is queryable), the lease holder and since when, the
  pending partitions and their oldest arrival, the last run with its result and duration.
  Example: npm run sluice -- status --stage prod`,
  runs: `sluice runs [--dataset D] [--failed] [--limit N] [--stage NAME | --lake DIR] [--json]
  Recent runs, newest first (default 20): status, start, duration, partitions processed/failed, and the failure
  (step: error: cause) from the run's failure notification.`,
  backfill: `sluice backfill --dataset D --from PARTITION --to PARTITION [--skip-crawler] [--stage NAME | --lake DIR]
                [--json] [--no-wait] [--interval-ms N]
  Starts ONE run over every partition from --from to --to (both included), e.g.
    sluice backfill --dataset orders --from year=2024/month=01/day=01 --to year=2024/month=01/day=31 --stage prod
  Calendar keys (year/month/day/hour, or a date key) step through the calendar; other int keys step by one.
  ${wrap(`Note: ${RANGE_HELP}.`, '  ')}
  Shows the partition map's items (finished, failed, running) as a progress bar until the run ends, then the
  partitions processed and failed (an item whose Glue job failed has finished: it reports the failure);
  Ctrl-C detaches and the run goes on (follow it with sluice runs / status). Exit code 1 when the run fails.`,
  logs: `sluice logs <execution> [--stage NAME | --lake DIR] [--json]
  Every step log line that carries the execution's ARN, in time order (on AWS: FilterLogEvents on the step
  Lambdas' log groups; locally: the run's state transitions from the history).`,
};

/** Text wrapped at 110 columns, each following line indented. */
function wrap(text: string, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > 110) {
      lines.push(line);
      line = indent + word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

const OPERATE = new Set(['status', 'runs', 'backfill', 'logs']);
/** Commands that create the lake folder when it is missing; every other command needs an existing lake. */
const CREATES_LAKE = new Set(['demo', 'watch']);

/** A mistake in how sluice was called: printed as `sluice: <message>`, exit code 2. */
class UsageError extends Error {
  override name = 'UsageError';
}

interface Options {
  lake: string;
  config: string;
  json: boolean;
  verbose: boolean;
  quietMs: number;
  pollMs: number;
}

const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

const out = (line: string): void => {
  process.stdout.write(line + '\n');
};

/** Progress lines; each names its run's dataset in full (names with `-` or `_` included). */
function liveView(json: boolean, datasetsOf: () => readonly string[]) {
  const started = new Map<string, number>();
  const mapTotals = new Map<string, { total: number; done: number; failed: number; unit: string }>();
  return (arn: string, event: LocalEvent) => {
    if (json) return;
    const datasets = datasetsOf();
    const width = Math.max(8, ...datasets.map((d) => d.length));
    const run = arn.split(':').pop() ?? arn;
    const dataset = datasetOfExecution(run, datasets) ?? run.split('-')[0] ?? '';
    if (!started.has(arn)) started.set(arn, Date.now());
    const elapsed = ((Date.now() - (started.get(arn) ?? Date.now())) / 1000).toFixed(1).padStart(6);
    const prefix = `${elapsed}s  ${dataset.padEnd(width)}`;
    if (event.type === 'StateEntered' && event.index === undefined && event.state) {
      if (event.state.type === 'Choice' || event.state.type === 'Pass') return;
      out(`${prefix} ▶ ${event.state.name}`);
      // By name: the local runner stands a Task in for the Distributed Map (withLocalDistributedMaps).
      if (event.state.name === STATES.mapState) {
        // ItemReader: the Map's input names the plan's list of job runs and its count, not the list.
        const items = mapItemsOf(event.state.input);
        mapTotals.set(arn, { total: items.total, done: 0, failed: 0, unit: items.unit });
      }
    } else if (event.type === 'MapIterationSucceeded' || event.type === 'MapIterationFailed') {
      const progress = mapTotals.get(arn);
      if (!progress) return;
      progress.done += 1;
      out(`${prefix}   ${progress.unit} ${String(progress.done).padStart(3)}/${progress.total} finished`);
    } else if (event.type === 'ExecutionSucceeded') out(`${prefix} ✔ run succeeded`);
    else if (event.type === 'ExecutionFailed' && event.index === undefined) out(`${prefix} ✘ run failed`);
  };
}

/** Text for the eye: the lake's s3:// URIs as the local files they are. */
function localText(options: Options, datasets: ResolvedConfig): (text: string) => string {
  const buckets = [
    datasets.lake.rawBucket,
    datasets.lake.curatedBucket,
    ...new Set(datasets.datasets.flatMap((d) => [d.raw.bucket, d.target.bucket])),
    `${datasets.stage}-artifacts`,
  ];
  return (text) => localPaths(text, options.lake, [...new Set(buckets)]);
}

async function open(options: Options): Promise<LocalRuntime> {
  if (options.verbose) process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  // The config is read (and validated) by LocalRuntime.open; what prints before it returns shows text as is.
  let runtime: LocalRuntime | undefined = undefined;
  const names = (): string[] => runtime?.config.datasets.map((d) => d.name) ?? [];
  runtime = await LocalRuntime.open({
    lakeDir: options.lake,
    configFile: options.config,
    quietMs: options.quietMs,
    pollMs: options.pollMs,
    print: (text) => {
      if (!options.json) out(runtime ? localText(options, runtime.config)(text) : text);
    },
    onEvent: liveView(options.json, names),
    logLevel: options.verbose ? 'INFO' : 'SILENT',
  });
  return runtime;
}

function listRaw(runtime: LocalRuntime): string[] {
  const dir = runtime.lake.bucketDir(runtime.config.lake.rawBucket);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => f.split(sep).join('/'))
    .sort();
}

/** The outcome of a run: which step failed, what the rows did. */
function failedStepOf(run: FinishedRun): string | undefined {
  if (run.result.status === 'SUCCEEDED') return undefined;
  const notified = run.result.events.find(
    (e) => e.type === 'StateExited' && e.state?.name === 'Publish the failure notification',
  );
  const report = (notified?.state?.output as { notification?: { report?: { failedStep?: string } } })?.notification
    ?.report;
  return report?.failedStep ?? 'unknown';
}

/**
 * The outcome of `run`, `demo`, `rerun '<json>'` and `watch`, counted as `sluice runs` and the metrics count it
 * (docs/operating.md, "Counting rows"): rows are those of the partition job runs that succeeded, where
 * in = out + bad; a failed partition wrote nothing and counts among the failed partitions, with its reason.
 */
function summarize(runtime: LocalRuntime, seconds: number) {
  const entries = runtime.runs.map((r) => entryOf(r));
  const rows = { in: 0, out: 0, bad: 0 };
  for (const r of runtime.runs) {
    const counted = rowsOf(r.metrics ?? []);
    rows.in += counted?.in ?? 0;
    rows.out += counted?.out ?? 0;
    rows.bad += counted?.bad ?? 0;
  }
  // The rejects files this command's job runs left, the newest per partition (older ones are superseded).
  const newest = new Map<string, string | undefined>();
  for (const j of partitionJobStats(runtime.jobs, runtime.lake))
    if (j.stats)
      newest.set(`${j.arguments['--sluice_dataset']}\n${j.arguments['--sluice_partition']}`, j.stats.rejectsFile);
  const rejectsFiles = [...newest.values()].filter((f): f is string => f !== undefined && existsSync(f));
  return {
    seconds: Number(seconds.toFixed(2)),
    runs: runtime.runs.map((r, i) => ({
      execution: r.executionArn.split(':').pop(),
      input: r.input,
      status: r.result.status,
      failedStep: failedStepOf(r),
      seconds: Number(r.seconds.toFixed(2)),
      ...(entries[i]?.failedPartitions ? { failedPartitions: entries[i]?.failedPartitions } : {}),
      rerun: r.result.status !== 'SUCCEEDED' && entries[i]?.rerunInput ? `sluice rerun ${entries[i]?.name}` : null,
      ...(entries[i]?.cost ? { cost: entries[i]?.cost } : {}),
    })),
    partitions: {
      succeeded: entries.reduce((n, e) => n + (e.partitions?.processed ?? 0), 0),
      failed: entries.reduce((n, e) => n + (e.partitions?.failed ?? 0), 0),
    },
    rows,
    rejectsFiles: rejectsFiles.map((f) => relative(process.cwd(), f)),
    rejectsFolders: [...new Set(rejectsFiles.map((f) => join(f, '..', '..')))].map((d) => displayPath(d) + sep),
    intake: {
      accepted: runtime.intake.filter((o) => o.status === 'accepted').length,
      duplicates: runtime.intake.filter((o) => o.status === 'duplicate').length,
      rejected: runtime.intake.flatMap((o) => (o.status === 'rejected' ? [{ key: o.key, reason: o.reason }] : [])),
    },
    unreadable: unreadableFiles(runtime),
    notifications: runtime.notifier.published.map((n) => n.subject),
  };
}

/** What the crawls of this command's runs could not read, against its partition (issue 25, item 3). */
function unreadableFiles(
  runtime: LocalRuntime,
): Array<{ dataset: string; partition: string; file: string; reason: string }> {
  const datasets = new Set(runtime.runs.map((r) => r.input.dataset));
  const tables = runtime.lake.readCatalog().tables;
  return runtime.config.datasets
    .filter((d) => datasets.has(d.name))
    .flatMap((d) =>
      Object.entries(tables[`sluice_${runtime.config.stage}_raw.${d.name}`]?.unreadable ?? {}).map(
        ([partition, note]) => ({ dataset: d.name, partition, ...note }),
      ),
    );
}

function printSummary(summary: ReturnType<typeof summarize>): void {
  out('\nSummary');
  out(
    `  runs:        ${summary.runs.map((r) => `${r.execution} ${r.status}${r.failedStep ? ` at ${r.failedStep}` : ''}`).join('\n               ') || 'none'}`,
  );
  out(`  partitions:  ${summary.partitions.succeeded} succeeded, ${summary.partitions.failed} failed`);
  const { rows } = summary;
  out(
    `  rows:        ${rows.in} in = ${rows.out} out + ${rows.bad} bad, in the partitions that succeeded` +
      (summary.partitions.failed > 0 ? ' (a failed partition writes nothing; its reason is below)' : ''),
  );
  if (summary.rejectsFiles.length > 0)
    out(
      `  rejects:     ${summary.rejectsFiles.length} file${summary.rejectsFiles.length === 1 ? '' : 's'} of rejected rows in ${summary.rejectsFolders.join(', ')}`,
    );
  out(
    `  intake:      ${summary.intake.accepted} files accepted, ${summary.intake.duplicates} duplicates, ${summary.intake.rejected.length} rejected`,
  );
  for (const r of summary.intake.rejected) out(`               rejected ${r.key}: ${r.reason}`);
  for (const u of summary.unreadable)
    out(`  crawler:     could not read ${u.file} (${u.dataset} ${u.partition}): ${u.reason}`);
  out(`  duration:    ${summary.seconds} s`);
  // What the same runs would cost on AWS under the cost model (domain/cost/run-costs.ts); a stage's runs show billed.
  for (const r of summary.runs) if (r.cost) out(`  cost:        ${r.execution} ${formatRunCost(r.cost)}`);
  for (const r of summary.runs.filter((run) => run.status !== 'SUCCEEDED')) {
    out(`\n${r.execution} ${r.status}${r.failedStep ? ` at ${r.failedStep}` : ''}`);
    for (const line of failedPartitionLines(r)) out(line);
    if (r.rerun) out(`re-run only what failed: ${r.rerun}`);
  }
}

function printRows(rows: Record<string, unknown>[]): void {
  if (rows.length === 0) return out('(no rows)');
  const cols = Object.keys(rows[0] ?? {});
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  out(cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(0, 50)) out(cols.map((c, i) => String(r[c]).padEnd(widths[i] ?? 0)).join('  '));
  if (rows.length > 50) out(`... ${rows.length - 50} more rows`);
}

/**
 * Every file of the raw zone as one burst of events, as S3 sends them for files that are already there: they reach
 * the intake in batches (up to 1,000), not one batch per file, one after the other (issue 25, item 10).
 */
async function ingestAll(runtime: LocalRuntime): Promise<void> {
  await runtime.deliverAll(listRaw(runtime).map((key) => runtime.lake.eventFor(key)));
  await runtime.idle();
}

function exitCodeOf(summary: ReturnType<typeof summarize>): number {
  return summary.runs.some((r) => r.status !== 'SUCCEEDED') ? 1 : 0;
}

/** The Node version check (issue 25): before anything else, with package.json's own range. */
function checkNodeVersion(): void {
  let range: string | undefined;
  try {
    range = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines
      ?.node;
  } catch {
    return; // no package.json beside the CLI: nothing to check against
  }
  const problem = nodeVersionProblem(process.versions.node, range);
  if (problem) throw new UsageError(problem);
}

/** The column types of a query's result, for --json numbers; none when the statement cannot be described. */
async function columnTypes(runtime: LocalRuntime, sql: string): Promise<Record<string, string>> {
  try {
    const described = await runtime.queries.query(`DESCRIBE ${sql.trim().replace(/;+$/, '')}`);
    return Object.fromEntries(described.map((c) => [String(c.column_name), String(c.column_type)]));
  } catch {
    return {};
  }
}

async function main(argv: string[]): Promise<number> {
  checkNodeVersion();
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      lake: { type: 'string' },
      config: { type: 'string' },
      stage: { type: 'string' },
      dataset: { type: 'string' },
      failed: { type: 'boolean', default: false },
      limit: { type: 'string', default: '20' },
      from: { type: 'string' },
      to: { type: 'string' },
      'skip-crawler': { type: 'boolean', default: false },
      'no-wait': { type: 'boolean', default: false },
      'interval-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      'quiet-ms': { type: 'string', default: '1000' },
      'poll-ms': { type: 'string', default: '50' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command = 'help', ...rest] = positionals;
  if (values.help || command === 'help' || !(command in HELP)) {
    out(HELP[values.help && command in HELP ? command : 'main'] ?? '');
    return command === 'help' || values.help ? 0 : 2;
  }
  const options: Options = {
    lake: resolve(values.lake ?? (command === 'demo' ? '.sluice/demo' : '.sluice/lake')),
    config: resolve(values.config ?? join(ROOT, 'config', values.stage ? `${values.stage}.json` : 'local.json')),
    json: values.json,
    verbose: values.verbose,
    quietMs: Number(values['quiet-ms']),
    pollMs: Number(values['poll-ms']),
  };
  // Issue 25: a mistyped --lake used to create an empty lake, and `query` answered 0.
  if (!values.stage && !CREATES_LAKE.has(command) && !isDirectory(options.lake))
    throw new UsageError(
      `no lake at ${displayPath(options.lake)}${values.lake ? ' (check --lake)' : ''}; sluice demo or sluice watch creates one, ` +
        `or land files under ${displayPath(options.lake)}/<raw bucket>/ and run sluice run`,
    );
  if (OPERATE.has(command) || values.stage || (command === 'rerun' && !rest.join(' ').trim().startsWith('{')))
    return operate(command, rest, values, options);
  const started = Date.now();
  if (command === 'demo') rmSync(options.lake, { recursive: true, force: true });
  const runtime = await open(options);
  try {
    switch (command) {
      case 'demo': {
        if (!options.json)
          out(`sluice demo: lake at ${relative(process.cwd(), options.lake)}; landing ${sampleFiles().length} files`);
        for (const file of sampleFiles()) runtime.lake.land(file.key, file.body);
        await ingestAll(runtime);
        const summary = summarize(runtime, (Date.now() - started) / 1000);
        const rows = await runtime.queries.query(SAMPLE_QUERY);
        if (options.json) out(JSON.stringify({ ...summary, query: { sql: SAMPLE_QUERY, rows } }, null, 2));
        else {
          printSummary(summary);
          out(`\nQuery: ${SAMPLE_QUERY}`);
          printRows(rows);
          out(
            `\nTry: npm run sluice -- query "SELECT count(*) FROM clicks" --lake ${relative(process.cwd(), options.lake)}`,
          );
          // performance.now() counts from this process's start: module loading included (issue 14).
          out(`wall time: ${(performance.now() / 1000).toFixed(2)} s (process start to this line)`);
        }
        return exitCodeOf(summary);
      }
      case 'run': {
        await ingestAll(runtime);
        const summary = summarize(runtime, (Date.now() - started) / 1000);
        if (options.json) out(JSON.stringify(summary, null, 2));
        else printSummary(summary);
        return exitCodeOf(summary);
      }
      case 'query': {
        const sql = rest.join(' ');
        const rows = await runtime.queries.query(sql);
        if (options.json) out(JSON.stringify(jsonRows(rows, await columnTypes(runtime, sql)), null, 2));
        else printRows(rows);
        return 0;
      }
      case 'rerun': {
        const input = JSON.parse(rest.join(' ')) as ExecutionInput;
        await runtime.runManually(input);
        await runtime.idle();
        const summary = summarize(runtime, (Date.now() - started) / 1000);
        if (options.json) out(JSON.stringify(summary, null, 2));
        else printSummary(summary);
        return exitCodeOf(summary);
      }
      case 'watch': {
        const rawDir = runtime.lake.bucketDir(runtime.config.lake.rawBucket);
        out(`watching ${relative(process.cwd(), rawDir)}/ (Ctrl-C to stop)`);
        const timers = new Map<string, NodeJS.Timeout>();
        watch(rawDir, { recursive: true }, (_event, name) => {
          if (!name) return;
          const key = String(name).split(sep).join('/');
          clearTimeout(timers.get(key));
          // Deliver once the file has stopped changing, as S3 does once the upload completes.
          timers.set(
            key,
            setTimeout(() => {
              timers.delete(key);
              if (existsSync(join(rawDir, key)) && statSync(join(rawDir, key)).isFile())
                void runtime.deliver(runtime.lake.eventFor(key)).then((o) => {
                  if (o.status !== 'rejected')
                    out(`  + ${key} (${o.status}${o.startedExecution ? ', run started' : ''})`);
                });
            }, 200),
          );
        });
        await new Promise<void>((done) => process.once('SIGINT', () => done()));
        await runtime.idle();
        printSummary(summarize(runtime, (Date.now() - started) / 1000));
        return 0;
      }
    }
    return 2;
  } finally {
    runtime.close();
  }
}

interface OperateFlags {
  stage?: string;
  dataset?: string;
  failed: boolean;
  limit: string;
  from?: string;
  to?: string;
  'skip-crawler': boolean;
  'no-wait': boolean;
  'interval-ms'?: string;
}

function required(value: string | undefined, flag: string, command: string): string {
  if (!value) throw new OperateError(`${command} needs ${flag} (sluice ${command} --help)`);
  return value;
}

/** status, runs, backfill, rerun <execution>, logs: one command code, a deployed stage or the local lake behind it. */
async function operate(command: string, rest: string[], flags: OperateFlags, options: Options): Promise<number> {
  if (!existsSync(options.config))
    throw new OperateError(`no stage config ${relative(process.cwd(), options.config)} (pass --config FILE)`);
  // Every schema's validator ready-made before the config is validated, as LocalRuntime.open does (issue 14): compiled
  // on demand instead, they cost every operate command 0.1-0.3 s before its work began (issue 25, item 10).
  installCompiledValidators();
  const config = loadConfigFile(options.config);
  if (flags.dataset && !config.datasets.some((d) => d.name === flags.dataset))
    throw new UsageError(
      `no dataset ${JSON.stringify(flags.dataset)} in ${displayPath(options.config)} (datasets: ${config.datasets.map((d) => d.name).join(', ')})`,
    );
  let backend: StageBackend;
  if (flags.stage && process.env.SLUICE_OPERATE_FAKE)
    backend = FakeStage.fromEnv(flags.stage, process.env.SLUICE_OPERATE_FAKE);
  else if (flags.stage) backend = await AwsStage.open(config);
  else
    backend = new LocalStage(
      config,
      options.lake,
      (onEvent) =>
        LocalRuntime.open({
          lakeDir: options.lake,
          configFile: options.config,
          quietMs: options.quietMs,
          pollMs: options.pollMs,
          onEvent,
          logLevel: options.verbose ? 'INFO' : 'SILENT',
        }),
      displayPath(options.lake),
    );
  const tty = process.stdout.isTTY === true && !options.json;
  const shown = flags.stage || options.json ? (line: string) => line : localText(options, config);
  const io: Io = {
    out: (line) => out(shown(line)),
    ...(tty ? { redraw: (line: string) => process.stdout.write(`\r\x1b[2K${line}`) } : {}),
    json: options.json,
    now: () => new Date(),
    sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
    // Only while a run is followed: elsewhere Ctrl-C ends the command as usual. Every SIGINT after the first is
    // absorbed too: the terminal signals the whole process group, and a launcher (tsx, npm) may relay the same
    // Ctrl-C again, which would otherwise kill the process (exit 130) after it has detached.
    detach: () => new Promise<void>((done) => process.on('SIGINT', () => done())),
  };
  const intervalMs = Number(flags['interval-ms'] ?? (flags.stage ? 5000 : 200));
  const wait = !flags['no-wait'];
  const execution = (name: string | undefined) => {
    const id = required(name, '<execution>', command);
    return backend instanceof AwsStage ? backend.executionArnFor(id) : id;
  };
  try {
    switch (command) {
      case 'status':
        return await statusCommand(backend, io);
      case 'runs':
        return await runsCommand(backend, io, {
          ...(flags.dataset ? { dataset: flags.dataset } : {}),
          failedOnly: flags.failed,
          limit: Number(flags.limit),
        });
      case 'backfill':
        return await backfillCommand(backend, config, io, {
          dataset: required(flags.dataset, '--dataset D', command),
          from: required(flags.from, '--from PARTITION', command),
          to: required(flags.to, '--to PARTITION', command),
          skipCrawler: flags['skip-crawler'],
          wait,
          intervalMs,
        });
      case 'rerun':
        if (rest.join(' ').trim().startsWith('{'))
          throw new OperateError(
            "rerun '<input JSON>' runs on the local lake only; on a stage, rerun takes an execution (or use backfill)",
          );
        return await rerunCommand(backend, io, execution(rest[0]), wait, intervalMs);
      case 'logs':
        return await logsCommand(backend, io, execution(rest[0]));
      default:
        throw new OperateError(`'${command}' works on the local lake only (drop --stage)`);
    }
  } finally {
    await backend.close?.();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`sluice: ${(error as Error).message}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
