#!/usr/bin/env node
/**
 * sluice on a laptop: `npm start` (= `sluice demo`), `sluice run`, `sluice watch`, `sluice query`, `sluice rerun`;
 * and the operate commands (`status`, `runs`, `backfill`, `rerun <execution>`, `logs`) on the local lake's run
 * history or, with `--stage <name>`, on the deployed stack `sluice-<name>` (adapters/operate/).
 */
import { existsSync, readdirSync, rmSync, statSync, watch } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../domain/config';
import type { ExecutionInput } from '../../schemas/types.generated';
import { AwsStage } from '../operate/aws-stage';
import {
  backfillCommand,
  logsCommand,
  RANGE_NOTE,
  rerunCommand,
  runsCommand,
  statusCommand,
  type Io,
} from '../operate/commands';
import { FakeStage } from '../operate/fake-stage';
import { OperateError, type StageBackend } from '../operate/ports';
import { sampleFiles, SAMPLE_QUERY } from './demo-data';
import { LocalStage } from './history';
import { LocalRuntime, type FinishedRun } from './runtime';
import type { LocalEvent } from './state-machine';

const ROOT = resolve(__dirname, '..', '..');
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
  --lake DIR      local lake folder (default .sluice/lake; demo: .sluice/demo)
  --config FILE   stage config (default config/local.json, or config/NAME.json with --stage)
  --json          machine-readable output
  --verbose       step logs (Powertools JSON) on stdout
  -h, --help      help for a command`,
  demo: `sluice demo [--lake DIR] [--json]\n  Deletes and recreates the demo lake, lands the bundled sample data (two datasets, one file with\n  uncastable rows, one file outside the layout), runs the pipeline, prints a summary and a query.`,
  run: `sluice run [--lake DIR] [--json] [--quiet-ms N]\n  Delivers an Object Created event for every file in the raw zone (already-seen files are duplicates\n  and add nothing), then waits until every run has ended.`,
  watch: `sluice watch [--lake DIR] [--quiet-ms N]\n  Watches <lake>/<raw bucket>/ and delivers an event per new file. Ctrl-C to stop.`,
  query: `sluice query "<SQL>" [--lake DIR] [--json]\n  Example: sluice query "SELECT count(*) FROM orders"`,
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
  Note: ${RANGE_NOTE}.
  Shows the partition map's items (finished, failed, running) as a progress bar until the run ends, then the
  partitions processed and failed (an item whose Glue job failed has finished: it reports the failure);
  Ctrl-C detaches and the run goes on (follow it with sluice runs / status). Exit code 1 when the run fails.`,
  logs: `sluice logs <execution> [--stage NAME | --lake DIR] [--json]
  Every step log line that carries the execution's ARN, in time order (on AWS: FilterLogEvents on the step
  Lambdas' log groups; locally: the run's state transitions from the history).`,
};

const OPERATE = new Set(['status', 'runs', 'backfill', 'logs']);

interface Options {
  lake: string;
  config: string;
  json: boolean;
  verbose: boolean;
  quietMs: number;
  pollMs: number;
}

const out = (line: string): void => {
  process.stdout.write(line + '\n');
};

function liveView(json: boolean) {
  const started = new Map<string, number>();
  const mapTotals = new Map<string, { total: number; done: number; failed: number }>();
  return (arn: string, event: LocalEvent) => {
    if (json) return;
    const run = arn.split(':').pop() ?? arn;
    const dataset = run.split('-')[0] ?? '';
    if (!started.has(arn)) started.set(arn, Date.now());
    const elapsed = ((Date.now() - (started.get(arn) ?? Date.now())) / 1000).toFixed(1).padStart(6);
    const prefix = `${elapsed}s  ${dataset.padEnd(8)}`;
    if (event.type === 'StateEntered' && event.index === undefined && event.state) {
      if (event.state.type === 'Choice' || event.state.type === 'Pass') return;
      out(`${prefix} ▶ ${event.state.name}`);
      if (event.state.type === 'Map') {
        // ItemReader (issue 12): the Map's input names the claimed list and its count, not the list.
        const input = event.state.input as { partitions?: unknown[]; debounce?: { items?: { count?: number } } };
        const items = input?.partitions?.length ?? input?.debounce?.items?.count ?? 0;
        mapTotals.set(arn, { total: items, done: 0, failed: 0 });
      }
    } else if (event.type === 'MapIterationSucceeded' || event.type === 'MapIterationFailed') {
      const progress = mapTotals.get(arn);
      if (!progress) return;
      progress.done += 1;
      out(`${prefix}   partitions ${String(progress.done).padStart(3)}/${progress.total} finished`);
    } else if (event.type === 'ExecutionSucceeded') out(`${prefix} ✔ run succeeded`);
    else if (event.type === 'ExecutionFailed' && event.index === undefined) out(`${prefix} ✘ run failed`);
  };
}

async function open(options: Options): Promise<LocalRuntime> {
  if (options.verbose) process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  return LocalRuntime.open({
    lakeDir: options.lake,
    configFile: options.config,
    quietMs: options.quietMs,
    pollMs: options.pollMs,
    print: (text) => {
      if (!options.json) out(text);
    },
    onEvent: liveView(options.json),
    logLevel: options.verbose ? 'INFO' : 'SILENT',
  });
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

function summarize(runtime: LocalRuntime, seconds: number) {
  const jobs = runtime.jobs.allStats();
  const rows = jobs.reduce(
    (sum, j) => ({
      in: sum.in + (j.stats?.rowsIn ?? 0),
      out: sum.out + (j.state === 'SUCCEEDED' ? (j.stats?.rowsOut ?? 0) : 0),
      bad: sum.bad + (j.stats?.badRows ?? 0),
    }),
    { in: 0, out: 0, bad: 0 },
  );
  return {
    seconds: Number(seconds.toFixed(2)),
    runs: runtime.runs.map((r) => ({
      execution: r.executionArn.split(':').pop(),
      input: r.input,
      status: r.result.status,
      failedStep: failedStepOf(r),
      seconds: Number(r.seconds.toFixed(2)),
    })),
    partitions: {
      succeeded: jobs.filter((j) => j.state === 'SUCCEEDED').length,
      failed: jobs.filter((j) => j.state !== 'SUCCEEDED').length,
    },
    rows: rows,
    rejectsFiles: jobs.flatMap((j) => (j.stats?.rejectsFile ? [relative(process.cwd(), j.stats.rejectsFile)] : [])),
    intake: {
      accepted: runtime.intake.filter((o) => o.status === 'accepted').length,
      duplicates: runtime.intake.filter((o) => o.status === 'duplicate').length,
      rejected: runtime.intake.flatMap((o) => (o.status === 'rejected' ? [{ key: o.key, reason: o.reason }] : [])),
    },
    notifications: runtime.notifier.published.map((n) => n.subject),
  };
}

function printSummary(summary: ReturnType<typeof summarize>): void {
  out('\nSummary');
  out(
    `  runs:        ${summary.runs.map((r) => `${r.execution} ${r.status}${r.failedStep ? ` at ${r.failedStep}` : ''}`).join('\n               ') || 'none'}`,
  );
  out(`  partitions:  ${summary.partitions.succeeded} succeeded, ${summary.partitions.failed} failed`);
  out(`  rows:        ${summary.rows.in} in, ${summary.rows.out} out, ${summary.rows.bad} bad (kept in rejects files)`);
  for (const f of summary.rejectsFiles) out(`               rejects: ${f}`);
  out(
    `  intake:      ${summary.intake.accepted} files accepted, ${summary.intake.duplicates} duplicates, ${summary.intake.rejected.length} rejected`,
  );
  for (const r of summary.intake.rejected) out(`               rejected ${r.key}: ${r.reason}`);
  out(`  duration:    ${summary.seconds} s`);
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

async function ingestAll(runtime: LocalRuntime): Promise<void> {
  for (const key of listRaw(runtime)) await runtime.deliver(runtime.lake.eventFor(key));
  await runtime.idle();
}

function exitCodeOf(summary: ReturnType<typeof summarize>): number {
  return summary.runs.some((r) => r.status !== 'SUCCEEDED') ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
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
        const rows = await runtime.queries.query(rest.join(' '));
        if (options.json) out(JSON.stringify(rows, null, 2));
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
  const config = loadConfigFile(options.config);
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
      relative(process.cwd(), options.lake) || '.',
    );
  const tty = process.stdout.isTTY === true && !options.json;
  const io: Io = {
    out,
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
    process.exit(1);
  },
);
