#!/usr/bin/env node
/**
 * sluice on a laptop: `npm start` (= `sluice demo`), `sluice run`, `sluice watch`, `sluice query`, `sluice rerun`.
 */
import { existsSync, readdirSync, rmSync, statSync, watch } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import type { ExecutionInput } from '../../schemas/types.generated';
import { sampleFiles, SAMPLE_QUERY } from './demo-data';
import { LocalRuntime, type FinishedRun } from './runtime';
import type { LocalEvent } from './state-machine';

const ROOT = resolve(__dirname, '..', '..');
const HELP: Record<string, string> = {
  main: `sluice: the data-lake pipeline on this machine (no AWS account needed)

Usage: sluice <command> [options]    (npm start = sluice demo)

Commands:
  demo     fresh demo lake, sample data landed, pipeline run, summary and a sample query
  run      take in every new file of the raw zone and run the pipeline until idle
  watch    watch the raw zone; each burst of files triggers one debounced run
  query    run SQL over the registered partitions of the target tables
  rerun    a manual run, with the same JSON as in the Step Functions console

Common options:
  --lake DIR      local lake folder (default .sluice/lake; demo: .sluice/demo)
  --config FILE   stage config (default config/local.json)
  --json          machine-readable output
  --verbose       step logs (Powertools JSON) on stdout
  -h, --help      help for a command`,
  demo: `sluice demo [--lake DIR] [--json]\n  Deletes and recreates the demo lake, lands the bundled sample data (two datasets, one file with\n  uncastable rows, one file outside the layout), runs the pipeline, prints a summary and a query.`,
  run: `sluice run [--lake DIR] [--json] [--quiet-ms N]\n  Delivers an Object Created event for every file in the raw zone (already-seen files are duplicates\n  and add nothing), then waits until every run has ended.`,
  watch: `sluice watch [--lake DIR] [--quiet-ms N]\n  Watches <lake>/<raw bucket>/ and delivers an event per new file. Ctrl-C to stop.`,
  query: `sluice query "<SQL>" [--lake DIR] [--json]\n  Example: sluice query "SELECT count(*) FROM orders"`,
  rerun: `sluice rerun '<input JSON>' [--lake DIR] [--json]\n  Example: sluice rerun '{"dataset":"orders","partitions":[{"year":"2024","month":"01","day":"03"}],"skipCrawler":true}'`,
};

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
        const items = ((event.state.input as { partitions?: unknown[] })?.partitions ?? []).length;
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
      config: { type: 'string', default: join(ROOT, 'config', 'local.json') },
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
    config: resolve(values.config),
    json: values.json,
    verbose: values.verbose,
    quietMs: Number(values['quiet-ms']),
    pollMs: Number(values['poll-ms']),
  };
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`sluice: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
