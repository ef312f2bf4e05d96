/**
 * `npx tsx tests/bench/local-batch.bench.ts [-- --partitions 365 --rows 337000 --reps 5]`
 *
 * The local engine alone (issue 25's speed, before the flow's wiring): the partitions of `npm run bench`'s
 * `337k/365` size converted by one batch job run (LocalJobs.runBatch, one batch of every partition), by one job run
 * per partition (the pre-batching flow: runs started together, the engine's connections taking them in turn), and
 * by one direct DuckDB `COPY … PARTITION_BY` with the same casts. Each side in its own process, `reps` interleaved
 * rounds (the order rotates); medians of the per-round ratios. The end-to-end figure is `npm run bench`'s.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const ROOT = join(__dirname, '..', '..');

const dayOf = (p: number) => {
  const d = new Date(Date.UTC(2024, 0, 1) + p * 86_400_000);
  return {
    year: String(d.getUTCFullYear()),
    month: String(d.getUTCMonth() + 1).padStart(2, '0'),
    day: String(d.getUTCDate()).padStart(2, '0'),
  };
};

/** The same files as `npm run bench` generates (tests/bench/pipeline.bench.ts generate). */
function generate(rawDir: string, rows: number, partitions: number): void {
  const per = Math.ceil(rows / partitions);
  for (let p = 0; p < partitions; p++) {
    const { year, month, day } = dayOf(p);
    const file = join(rawDir, `orders/year=${year}/month=${month}/day=${day}/data.csv`);
    mkdirSync(dirname(file), { recursive: true });
    const lines = ['order_id,customer,amount,ordered_at'];
    for (let i = 0; i < Math.max(0, Math.min(per, rows - per * p)); i++) {
      const id = p * per + i;
      lines.push(
        `${id},cust-${id % 997},${((id * 7919) % 100000) / 100},${year}-${month}-${day} ${String(i % 24).padStart(2, '0')}:00:00`,
      );
    }
    writeFileSync(file, lines.join('\n') + '\n');
  }
}

async function side(mode: string, lakeDir: string, partitions: number): Promise<{ seconds: number; rows: number }> {
  const { loadConfigFile } = await import('../../domain/config/config');
  const config = loadConfigFile(join(ROOT, 'config', 'local.json'));
  const dataset = config.datasets.find((d) => d.name === 'orders');
  if (!dataset) throw new Error('config/local.json has no orders dataset');
  const rawDir = join(lakeDir, config.lake.rawBucket);
  const curated = join(lakeDir, config.lake.curatedBucket);
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const countRows = async (glob: string) => {
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const reader = await db.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet(${q(glob)})`);
    return Number(reader.getRowObjectsJson()[0]?.n);
  };
  if (mode === 'direct') {
    const { duckdbCast } = await import('../../domain/rows/cast-contract');
    const id = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const casts = dataset.mapping.map((m) => `${duckdbCast(m.type, id(m.source))} AS ${id(m.target)}`);
    mkdirSync(curated, { recursive: true });
    const t0 = performance.now();
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    await db.run(
      `COPY (SELECT ${casts.join(', ')}, year, month, day FROM read_csv(${q(join(rawDir, 'orders/*/*/*/*.csv'))}, header = true, all_varchar = true, hive_partitioning = true, hive_types_autocast = false)) TO ${q(join(curated, 'direct'))} (FORMAT parquet, PARTITION_BY (year, month, day))`,
    );
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, rows: await countRows(join(curated, 'direct/**/*.parquet')) };
  }
  const { LocalEngine } = await import('../../adapters/local/duckdb');
  const { LocalJobs } = await import('../../adapters/local/glue');
  const { LocalLake } = await import('../../adapters/local/lake');
  const { jobBatch, jobBatchArguments, jobBatchLocation } = await import('../../domain/steps/jobs');
  const { s3Uri } = await import('../../domain/common/artifacts');
  const t0 = performance.now();
  const engine = await LocalEngine.open();
  const lake = new LocalLake(lakeDir, config.lake.rawBucket, config.lake.curatedBucket);
  const jobs = new LocalJobs(config, lake, engine, { now: () => new Date() });
  const execution = 'arn:aws:states:us-east-1:000000000000:execution:sluice-local:bench';
  const all = Array.from({ length: partitions }, (_, p) => ({ partition: dayOf(p) }));
  const batches = mode === 'batch' ? [all] : all.map((p) => [p]);
  for (const [i, partitionsOf] of batches.entries()) {
    const location = jobBatchLocation('artifacts', execution, i);
    const batch = jobBatch(dataset, partitionsOf, execution, location, { bucket: 'artifacts' });
    const path = lake.pathOf(s3Uri(location));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(batch));
    await jobs.startJobRun(dataset.job.name, jobBatchArguments(dataset, batch, location));
  }
  while (jobs.pending.size > 0) await Promise.all([...jobs.pending]);
  const seconds = (performance.now() - t0) / 1000;
  engine.close();
  const failed = jobs.allStats().filter((r) => r.state !== 'SUCCEEDED');
  if (failed.length > 0) throw new Error(`${mode}: ${failed.length} job runs failed`);
  return { seconds, rows: await countRows(join(curated, 'orders/**/*.parquet')) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function main(): void {
  const { values } = parseArgs({
    options: {
      partitions: { type: 'string', default: '365' },
      rows: { type: 'string', default: '337000' },
      reps: { type: 'string', default: '5' },
    },
  });
  const [partitions, rows, reps] = [Number(values.partitions), Number(values.rows), Number(values.reps)];
  const root = mkdtempSync(join(tmpdir(), 'sluice-batch-bench-'));
  const modes = ['batch', 'single', 'direct'];
  const seconds: Record<string, number[]> = { batch: [], single: [], direct: [] };
  try {
    for (let rep = 0; rep < reps; rep++) {
      // The order rotates, so drift in the machine's load hits every side.
      for (const mode of [...modes.slice(rep % 3), ...modes.slice(0, rep % 3)]) {
        const lakeDir = join(root, `${mode}-${rep}`);
        generate(join(lakeDir, 'raw'), rows, partitions);
        const child = spawnSync(
          process.execPath,
          [...process.execArgv, __filename, '--child', mode, lakeDir, String(partitions)],
          {
            encoding: 'utf8',
          },
        );
        const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
        if (child.status !== 0 || !line) throw new Error(`${mode} failed: ${child.stderr}`);
        const result = JSON.parse(line) as { seconds: number; rows: number };
        if (result.rows !== rows) throw new Error(`${mode}: ${result.rows} rows written, expected ${rows}`);
        seconds[mode]?.push(result.seconds);
        rmSync(lakeDir, { recursive: true, force: true });
      }
      console.log(
        `   round ${rep + 1}: batch ${seconds.batch?.[rep]?.toFixed(2)} s, one run per partition ${seconds.single?.[rep]?.toFixed(2)} s, direct ${seconds.direct?.[rep]?.toFixed(2)} s`,
      );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const ratios = (mode: string) => (seconds[mode] ?? []).map((s, i) => s / (seconds.direct?.[i] ?? NaN));
  const show = (xs: number[]) => `${Math.min(...xs).toFixed(2)}/${median(xs).toFixed(2)}/${Math.max(...xs).toFixed(2)}`;
  console.log(
    `engine ${Math.round(rows / 1000)}k/${partitions}: wall ratio against direct min/median/max: one batch run ${show(ratios('batch'))}, one run per partition ${show(ratios('single'))}`,
  );
}

const at = process.argv.indexOf('--child');
if (at >= 0)
  side(process.argv[at + 1] ?? '', process.argv[at + 2] ?? '', Number(process.argv[at + 3]))
    .then((r) => console.log(JSON.stringify(r)))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
else main();
